import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShopAccount } from '../src/application/connector.port';
import { PlatformApiError } from '../src/application/connector.port';
import { DouyinStockAdapter, JdStockAdapter, PddStockAdapter, TopStockAdapter } from '../src/infra/connectors/connectors';
import { startFakePlatforms, type FakePlatforms } from './fakes/platforms';

/**
 * Each platform's stock adapter against the local fake platform, which recomputes the signature from
 * the received parameters the way the platform does (TOP HMAC-SHA256 over sorted k+v; JD / PDD upper
 * MD5(secret + sorted k+v + secret); Douyin param_json) and refuses a request signed with another secret.
 */
describe('stock push-back adapters (TOP, JD, PDD, Douyin) against the fake platforms', () => {
  let platforms: FakePlatforms;
  const shop = (platform: ShopAccount['platform'], creds: { appKey: string; appSecret: string }): ShopAccount => ({
    platform, shopId: `${platform}-shop`, ...creds, accessToken: 'token', baseUrl: platforms.url, listings: { 'TEA-LJ-250': '600123456789' },
  });
  const cases = () =>
    [
      ['taobao', new TopStockAdapter(), platforms.creds.taobao, 'taobao.item.quantity.update'],
      ['jd', new JdStockAdapter(), platforms.creds.jd, 'jingdong.stock.write.updateSkuStock'],
      ['pinduoduo', new PddStockAdapter(), platforms.creds.pinduoduo, 'pdd.goods.quantity.update'],
    ] as const;

  beforeAll(async () => {
    platforms = await startFakePlatforms();
  });
  afterAll(async () => platforms?.close());

  it('sets the listed item quantity (full update), signed as the platform checks it', async () => {
    for (const [platform, adapter, creds, method] of cases()) {
      await adapter.setQuantity(shop(platform, creds), 'TEA-LJ-250', 37);
      const call = platforms.calls.filter((c) => c.method === method).at(-1);
      expect(call, platform).toMatchObject({ signatureOk: true });
      expect(call?.refused, platform).toBeUndefined();
      expect(platforms.stockUpdates.at(-1), platform).toMatchObject({ platform, itemId: '600123456789', stockNum: 37 });
    }
    expect(platforms.calls.find((c) => c.method === 'taobao.item.quantity.update')?.params).toMatchObject({ num_iid: '600123456789', outer_id: 'TEA-LJ-250', quantity: '37', type: '1' });
    expect(platforms.calls.find((c) => c.method === 'pdd.goods.quantity.update')?.params).toMatchObject({ goods_id: '600123456789', outer_id: 'TEA-LJ-250', quantity: '37', update_type: '1' });
    expect(JSON.parse(String(platforms.calls.find((c) => c.method === 'jingdong.stock.write.updateSkuStock')?.params['360buy_param_json']))).toEqual({ skuId: '600123456789', stockNum: 37 });
    await new DouyinStockAdapter().setQuantity(shop('douyin', platforms.creds.douyin), 'TEA-LJ-250', 12);
    expect(platforms.stockUpdates.at(-1)).toMatchObject({ platform: 'douyin', code: 'TEA-LJ-250', stockNum: 12 });
  });

  it('a request signed with another secret is refused by the platform and nothing is stored', async () => {
    const before = platforms.stockUpdates.length;
    for (const [platform, adapter, creds] of cases()) {
      const err = await adapter.setQuantity(shop(platform, { ...creds, appSecret: 'not-the-secret' }), 'TEA-LJ-250', 99).catch((e: unknown) => e);
      expect(err, platform).toBeInstanceOf(PlatformApiError);
      expect(platforms.calls.at(-1), platform).toMatchObject({ platform, signatureOk: false });
    }
    expect(platforms.stockUpdates.length).toBe(before);
  });

  it('a SKU with no item id on the shop is not sent (NO_LISTING, the stock_push row stays due with the error)', async () => {
    const calls = platforms.calls.length;
    for (const [platform, adapter, creds] of cases()) {
      const err = (await adapter.setQuantity(shop(platform, creds), 'TEA-UNLISTED', 5).catch((e: unknown) => e)) as PlatformApiError;
      expect(err.code, platform).toBe('NO_LISTING');
    }
    expect(platforms.calls.length).toBe(calls);
  });
});
