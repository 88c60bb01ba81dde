import { describe, expect, it } from 'vitest';
import { parseProfile, ProfileRegistry } from './profile-registry';

describe('mapping profiles are schema-validated data', () => {
  it('loads every shipped profile, one default per channel layout', () => {
    const r = new ProfileRegistry();
    expect(r.list().map((p) => `${p.id}@${p.version}`).sort()).toEqual(['douyin@4', 'jd@4', 'offline-pos@1', 'pinduoduo@3', 'shopify@1', 'taobao-classic@5', 'taobao-current@3']);
    expect(r.resolve('taobao').id).toBe('taobao-classic');
    expect(r.resolve('tmall').id).toBe('taobao-current');
    expect(r.resolve('web').id).toBe('shopify');
  });

  it('tells an upload which layouts need the items file (宝贝报表) and which profile a channel uses when none is named', () => {
    const r = new ProfileRegistry();
    const classic = r.get('taobao-classic');
    r.add({ ...classic, version: classic.version - 1 });
    const byKey = Object.fromEntries(r.summaries().map((s) => [`${s.id}@${s.version}`, s]));
    expect(byKey[`taobao-classic@${classic.version}`]).toMatchObject({ channel: 'taobao', itemsFile: true, defaultFor: ['taobao'] });
    // An older version is listed, but new imports take the newest: it is nobody's default.
    expect(byKey[`taobao-classic@${classic.version - 1}`]).toMatchObject({ itemsFile: true, defaultFor: [] });
    expect(byKey['taobao-current@3']).toMatchObject({ channel: 'tmall', itemsFile: false, defaultFor: ['tmall'] });
    expect(byKey['shopify@1']).toMatchObject({ itemsFile: false, defaultFor: ['web'] });
    expect(r.summaries().filter((s) => s.itemsFile).map((s) => s.id)).toEqual(['taobao-classic', 'taobao-classic']);
  });

  it('refuses a profile that breaks the schema, naming each problem', () => {
    const bad = `
id: Bad Id
version: 0
channel: amazon
description: x
moneyUnit: dollars
order: { id: 订单号, status: 状态 }
money: { paid: 实付 }
lines: { from: rows, sku: 编码, title: 名称, quantity: 数量 }
statuses: { 已付款: shipped_twice }
`;
    let error: unknown;
    try {
      parseProfile(bad, 'bad.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'PROFILE_INVALID' });
    const errors = (error as { details: { errors: string[] } }).details.errors.join('\n');
    for (const path of ['/id', '/version', '/channel', '/moneyUnit', '/order', '/lines', '/statuses/已付款']) expect(errors).toContain(path);
  });

  it('keeps versions apart: the highest serves new imports, an older one stays addressable', () => {
    const r = new ProfileRegistry();
    const current = r.get('jd');
    r.add({ ...current, version: current.version + 1, statuses: { ...current.statuses, 暂停: 'paid' } });
    expect(r.get('jd').version).toBe(current.version + 1);
    expect(r.get('jd', current.version).statuses).not.toHaveProperty('暂停');
    expect(() => r.get('jd', 7)).toThrow(/no mapping profile jd@7/);
  });
});
