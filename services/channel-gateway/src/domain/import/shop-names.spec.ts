import { describe, expect, it } from 'vitest';
import { parseShopNames, shopNameResolver } from './shop-names';

describe('shop names of exports -> configured shop ids (CHANNEL_IMPORT_SHOPS)', () => {
  const resolve = shopNameResolver([
    { channel: 'tmall', shopId: 'tmall-flagship', names: ['茶语天猫旗舰店'] },
    { channel: 'jd', shopId: 'jd-self-run', names: ['茶语京东自营店', 'Chayu JD'] },
    { shopId: 'pdd-main', names: ['茶语拼多多店'] },
  ]);

  it("maps a channel's own names, ignoring spaces, width and case; the id itself maps to itself", () => {
    expect(resolve('tmall', '茶语天猫旗舰店')).toBe('tmall-flagship');
    expect(resolve('tmall', ' 茶语 天猫旗舰店 ')).toBe('tmall-flagship');
    expect(resolve('jd', 'ＣＨＡＹＵ　jd')).toBe('jd-self-run');
    expect(resolve('tmall', 'tmall-flagship')).toBe('tmall-flagship');
  });

  it("keeps another channel's name unknown; an entry without channel serves every channel; an unknown name is undefined", () => {
    expect(resolve('taobao', '茶语京东自营店')).toBeUndefined();
    expect(resolve('pinduoduo', '茶语拼多多店')).toBe('pdd-main');
    expect(resolve('tmall', '别人家的店')).toBeUndefined();
  });

  it('refuses a malformed setting naming the entry and field', () => {
    expect(parseShopNames('[{"channel":"tmall","shopId":"tmall-flagship","names":["茶语天猫旗舰店"]}]')).toEqual([{ channel: 'tmall', shopId: 'tmall-flagship', names: ['茶语天猫旗舰店'] }]);
    expect(() => parseShopNames('{}')).toThrow(/JSON array/);
    expect(() => parseShopNames('[{"names":["x"]}]')).toThrow(/\[0\]\.shopId/);
    expect(() => parseShopNames('[{"shopId":"a","names":"x"}]')).toThrow(/\[0\]\.names/);
  });
});
