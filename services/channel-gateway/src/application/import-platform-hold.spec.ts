import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import { lockMarksSeen, planSync, type AppliedStep } from '../domain/sync/order-sync.policy';
import { readTable } from '../infra/file-reader';
import { ProfileRegistry } from '../infra/profile-registry';
import type { ChannelOrderRecord, ChannelStore } from './channel-store.port';
import { ImportService } from './import.service';
import type { OrderIntakePort, PaymentBody } from './order-intake.port';

// JD 锁定 (an order JD holds while a cancellation request or a review is pending) puts the order on
// hold and refunds nothing; a platform status that moves back from a cancel / refund the flow recorded
// is reported as a refused change, never counted as a duplicate.

const F = join(__dirname, '../../test/fixtures');

function memoryStore(): ChannelStore {
  const orders = new Map<string, ChannelOrderRecord>();
  return {
    findOrder: async (channel: string, id: string) => orders.get(`${channel}|${id}`) ?? null,
    saveOrder: async (rec: ChannelOrderRecord, _d: ChannelOrderDraft) => void orders.set(`${rec.channel}|${rec.channelOrderId}`, structuredClone(rec)),
    findUnfinishedRun: async () => null,
    startRun: async () => undefined,
    finishRun: async () => undefined,
    quarantine: async () => 'q1',
    resolveQuarantineOf: async () => undefined,
  } as unknown as ChannelStore;
}

function recordingOrderIntake(): OrderIntakePort & { calls: string[]; holdKeys: string[] } {
  const calls: string[] = [];
  const holdKeys: string[] = [];
  let n = 0;
  return {
    calls,
    holdKeys,
    async place(s, _key, _person, payment?: PaymentBody) {
      calls.push(`place ${s.channelOrderId}${payment ? ` paid ${payment.amount}` : ''}`);
      return { orderId: `o${++n}`, created: true, paidTotal: payment?.amount ?? null, grandTotal: 12800 };
    },
    confirmPayment: async (id, p) => void calls.push(`pay ${id} ${p.amount}`),
    cancel: async (id) => void calls.push(`cancel ${id}`),
    hold: async (id, why, key) => {
      calls.push(`hold ${id} ${why.slice(0, 11)}`);
      holdKeys.push(key);
    },
    requestRefund: async (id, amount) => void calls.push(`requestRefund ${id} ${amount}`),
    confirmRefund: async (id, amount) => void calls.push(`confirmRefund ${id} ${amount}`),
  };
}

function setup() {
  const orderIntake = recordingOrderIntake();
  const service = new ImportService({ store: memoryStore(), orderIntake, profiles: new ProfileRegistry(), readTable, now: () => new Date('2025-12-04T00:00:00Z') });
  const run = (name: string, bytes: Buffer = readFileSync(join(F, name)), dryRun = false) => service.run({ channel: 'jd', file: { name, bytes }, dryRun });
  return { orderIntake, run };
}

describe('JD 锁定 and statuses that move back', () => {
  it('a paid order JD locks is put on hold (no cancel, no refund); 等待出库 again leaves the hold to a person', async () => {
    const { orderIntake, run } = setup();
    await run('jd-locked-released.gbk.csv');
    const locked = await run('jd-locked.gbk.csv');
    expect(locked).toMatchObject({ updated: 1, refusedChanges: [] });
    expect(orderIntake.calls).toEqual(['place 320000000031 paid 12800', 'hold o1 平台已锁定该订单（锁定']);
    expect(orderIntake.calls.some((c) => /cancel|Refund/.test(c))).toBe(false);
    const released = await run('jd-locked-released.gbk.csv');
    expect(released).toMatchObject({ duplicates: 1, refusedChanges: [] });
  });

  it('a second lock after the order was seen unlocked (the buyer asks to cancel again) holds again under its own Idempotency-Key; the same locked file again stays a duplicate', async () => {
    const { orderIntake, run } = setup();
    await run('jd-locked-released.gbk.csv');
    expect(await run('jd-locked.gbk.csv')).toMatchObject({ updated: 1 });
    expect(await run('jd-locked.gbk.csv')).toMatchObject({ duplicates: 1, updated: 0 });
    expect(await run('jd-locked-released.gbk.csv')).toMatchObject({ duplicates: 1, refusedChanges: [] });
    // Locked again: a new episode, held again (the person released the first hold, the warehouse would ship).
    expect(await run('jd-locked.gbk.csv', undefined, true)).toMatchObject({ updated: 1, duplicates: 0 });
    expect(await run('jd-locked.gbk.csv')).toMatchObject({ updated: 1, duplicates: 0 });
    expect(await run('jd-locked.gbk.csv')).toMatchObject({ updated: 0, duplicates: 1 });
    expect(orderIntake.calls.filter((c) => c.startsWith('hold'))).toEqual(['hold o1 平台已锁定该订单（锁定', 'hold o1 平台已锁定该订单（锁定']);
    expect(orderIntake.holdKeys).toEqual(['channel-gateway:jd:320000000031:held', 'channel-gateway:jd:320000000031:held:lock-2']);
  });

  it('lock episodes: a hold recorded before episodes were counted is the first episode\'s; seen unlocked, the next lock is episode 2', () => {
    const locked = { state: 'on_hold', platformStatus: '锁定', channel: 'jd', channelOrderId: '1', paidAt: '2025-12-03T02:00:30.000Z', money: { paid: 12800 } } as unknown as ChannelOrderDraft;
    const open = { ...locked, state: 'paid', platformStatus: '等待出库' } as ChannelOrderDraft;
    const before: AppliedStep[] = ['placed', 'held', 'paid'];
    expect(planSync(locked, new Set(before))).toEqual([]);
    expect(lockMarksSeen(locked, new Set(before))).toEqual(['lock:1:held']);
    expect(lockMarksSeen(open, new Set(before))).toEqual([]);
    const released = new Set<AppliedStep>([...before, 'lock:1:held', 'lock:1:released']);
    expect(lockMarksSeen(open, new Set<AppliedStep>([...before, 'lock:1:held']))).toEqual(['lock:1:released']);
    expect(planSync(locked, released)).toEqual([{ step: 'held', reason: expect.stringContaining('锁定'), lockEpisode: 2 }]);
    expect(planSync(locked, new Set<AppliedStep>([...released, 'lock:2:held']))).toEqual([]);
  });

  it('first seen locked: placed, held, paid; nothing refunded', async () => {
    const { orderIntake, run } = setup();
    expect(await run('jd-locked.gbk.csv')).toMatchObject({ imported: 1 });
    expect(orderIntake.calls).toEqual(['place 320000000031', 'hold o1 平台已锁定该订单（锁定', 'pay o1 12800']);
  });

  it('an order the flow cancelled and refunded that the platform shows 等待出库 again is a refused change in the report (dry run too), not a duplicate', async () => {
    const { orderIntake, run } = setup();
    await run('jd-locked-released.gbk.csv');
    const cancelled = iconv.encode(iconv.decode(readFileSync(join(F, 'jd-locked-released.gbk.csv')), 'gbk').replace('等待出库', '已取消'), 'gbk');
    await run('jd-cancelled.csv', cancelled);
    expect(orderIntake.calls.slice(-2)).toEqual(['requestRefund o1 12800', 'confirmRefund o1 12800']);
    const dry = await run('jd-locked-released.gbk.csv', undefined, true);
    const again = await run('jd-locked-released.gbk.csv');
    for (const r of [dry, again]) {
      expect(r).toMatchObject({ ordersSeen: 1, imported: 0, duplicates: 0, updated: 0 });
      expect(r.refusedChanges).toEqual([expect.objectContaining({ channelOrderId: '320000000031', orderId: 'o1', step: 'reopened', code: 'PLATFORM_STATUS_REOPENED', message: expect.stringContaining('等待出库') })]);
      expect(r.autoIngestRate).toBe(0);
    }
    expect(orderIntake.calls).toHaveLength(3);
  });
});
