import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_CONFIG } from '../domain/sla';
import { CS_WANG, EventBuilder, GM_LI, happyPath, placedData, type DataOf } from '../../test/fixtures/events';
import { projectInMemory } from './in-memory.projection';
import type { OrderSummaryRow } from './order-summary.projection';
import { projectEvent, summaryAsOf } from './order-tracking.projection';
import type { TimelineEntryRow } from './order-timeline.projection';
import { asTrackedEvent, TRACKED_EVENT_TYPES, type TrackedEvent, type TrackedEventType } from './tracked-event';

const config = DEFAULT_SLA_CONFIG;
const T0 = '2026-03-02T01:00:00.000Z';

/** given: earlier events of order o-1 (folded), when: one event, then: the changes it causes. */
function given(events: TrackedEvent[]) {
  const state = projectInMemory(events, config);
  return {
    when(e: TrackedEvent) {
      const before = state.summaries.get('o-1') ?? null;
      const result = projectEvent(before, e, config);
      return { before, result, summary: result.summary as OrderSummaryRow, timeline: result.timeline as TimelineEntryRow };
    },
  };
}

/** A placed, paid and reserved order o-1 and the builder that made it (clock one minute per event). */
function reservedOrder() {
  const b = new EventBuilder(T0);
  const events: TrackedEvent[] = [
    b.event('OrderPlaced', placedData('o-1', {}, T0)),
    b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: '2026-03-02T01:01:00.000Z' }),
    b.event('OrderStockReserved', { orderId: 'o-1', reservationId: 'r-1', allocations: [{ lineId: 'l1', sku: 'SKU-TEA-01', warehouseId: 'hz-1', quantity: 2 }] }),
  ];
  return { b, events };
}

const covered = new Set<TrackedEventType>();
function forType<T extends TrackedEventType>(type: T, name: string, fn: () => void) {
  covered.add(type);
  it(`${type}: ${name}`, fn);
}

describe('order events -> summary, stage durations and timeline', () => {
  forType('OrderPlaced', 'creates the row in stage placed with masked customer, amounts and channel', () => {
    const b = new EventBuilder(T0);
    const { summary, timeline, result } = given([]).when(b.event('OrderPlaced', placedData('o-1', {}, '2026-03-02T00:59:00.000Z'), { actor: { kind: 'channel', id: 'taobao' } }));
    expect(summary).toMatchObject({
      orderId: 'o-1', channel: 'taobao', channelOrderId: '3912345678901234567', shopId: 'taobao-shop-1',
      customerMasked: '张*', customerPhoneMasked: '138****5678', province: '浙江省', city: '杭州市',
      lineCount: 2, itemCount: 3, grandTotal: 27900, currency: 'CNY', paidAmount: 0,
      stage: 'placed', stageEnteredAt: T0, stageVisit: 1, onHold: false, exception: false,
      manualTouch: false, ingestMode: 'auto', placedAt: '2026-03-02T00:59:00.000Z',
      slaSegment: null, slaDueAt: null, stuckAt: '2026-03-03T01:00:00.000Z', etaShipBy: null, eventCount: 1,
    });
    expect(result.stageVisits).toEqual([{ kind: 'open', row: { orderId: 'o-1', visit: 1, stage: 'placed', channel: 'taobao', enteredAt: T0, leftAt: null, durationMs: null } }]);
    expect(timeline).toMatchObject({
      orderId: 'o-1', context: 'orders', whoZh: '淘宝平台', whoEn: 'Taobao platform',
      whatZh: '在淘宝下单（3912345678901234567），共 3 件，应付 ¥279.00', whatEn: 'Placed on Taobao (3912345678901234567): 3 item(s), ¥279.00 due',
      stageAfter: 'placed',
    });
  });

  it('OrderPlaced: masks a nickname when the channel sent no masked name, and marks a keyed-in order manual', () => {
    const b = new EventBuilder(T0);
    const data = placedData('o-1', { customer: { nickname: '小明同学', phoneMasked: '13812345678', tags: [] } });
    const { summary } = given([]).when(b.event('OrderPlaced', data, { actor: CS_WANG }));
    expect(summary).toMatchObject({ customerMasked: '小***', customerPhoneMasked: '138****5678', ingestMode: 'manual', manualTouch: true });
  });

  it('OrderPlaced: masks long nicknames and landlines with the same rules as order-intake (contracts pii/masking)', () => {
    const b = new EventBuilder(T0);
    const data = placedData('o-1', { customer: { nickname: '爱新觉罗溥仪', phoneMasked: '0571-87654321', tags: [] } });
    const { summary } = given([]).when(b.event('OrderPlaced', data, { actor: CS_WANG }));
    // tracking used to cap the stars at three (爱***) and mask landlines as 057******4321.
    expect(summary).toMatchObject({ customerMasked: '爱*****', customerPhoneMasked: '0571-****4321' });
  });

  it('OrderPlaced: keeps a phone order-intake already masked as it is', () => {
    const b = new EventBuilder(T0);
    const data = placedData('o-1', { customer: { nickname: '小明', phoneMasked: '+86 138****5678', tags: [] } });
    const { summary } = given([]).when(b.event('OrderPlaced', data, { actor: CS_WANG }));
    expect(summary).toMatchObject({ customerMasked: '小*', customerPhoneMasked: '+86 138****5678' });
  });

  forType('OrderPaid', 'moves to paid, starts the paid -> ready_to_ship clock (2 h) and sets the ETA', () => {
    const b = new EventBuilder(T0);
    const placed = b.event('OrderPlaced', placedData('o-1', {}, T0));
    const { summary, result, timeline } = given([placed]).when(b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paymentRef: 'alipay-9', paidAt: '2026-03-02T01:00:30.000Z' }));
    expect(summary).toMatchObject({
      stage: 'paid', stageEnteredAt: '2026-03-02T01:01:00.000Z', stageVisit: 2, paidAmount: 27900, paidAt: '2026-03-02T01:00:30.000Z',
      slaSegment: 'paid_to_ready', slaStartedAt: '2026-03-02T01:01:00.000Z', slaYellowAt: '2026-03-02T02:37:00.000Z', slaDueAt: '2026-03-02T03:01:00.000Z',
      stuckAt: '2026-03-03T01:01:00.000Z', etaShipBy: '2026-03-03T03:01:00.000Z',
    });
    expect(result.stageVisits).toEqual([
      { kind: 'close', orderId: 'o-1', visit: 1, stage: 'placed', channel: 'taobao', enteredAt: '2026-03-02T01:00:00.000Z', leftAt: '2026-03-02T01:01:00.000Z', durationMs: 60_000 },
      { kind: 'open', row: { orderId: 'o-1', visit: 2, stage: 'paid', channel: 'taobao', enteredAt: '2026-03-02T01:01:00.000Z', leftAt: null, durationMs: null } },
    ]);
    expect(timeline).toMatchObject({ whatZh: '支付确认 ¥279.00', whatEn: 'Payment of ¥279.00 confirmed', whyZh: '支付流水号 alipay-9', stageAfter: 'paid' });
  });

  it("OrderPaid: an imported order is paid when the platform says the buyer paid (KPIs count from it); its stage clock from when it arrived", () => {
    const b = new EventBuilder(T0);
    const placed = b.event('OrderPlaced', placedData('o-1', {}, T0));
    const { summary } = given([placed]).when(
      b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: '2026-03-02T01:00:30.000Z', reportedPaidAt: '2026-03-01T22:15:00.000Z' }),
    );
    expect(summary).toMatchObject({ stage: 'paid', paidAt: '2026-03-01T22:15:00.000Z', stageEnteredAt: '2026-03-02T01:01:00.000Z', slaStartedAt: '2026-03-02T01:01:00.000Z' });
  });

  it('OrderPaid: a presale balance (尾款) paid after the stock was reserved adds up and leaves the stage where it is', () => {
    const b = new EventBuilder(T0);
    const events = [
      b.event('OrderPlaced', placedData('o-1', {}, T0)),
      b.event('OrderPaid', { orderId: 'o-1', amount: 5000, currency: 'CNY', presalePart: 'deposit', paidAt: '2026-03-02T01:00:30.000Z' }),
      b.event('OrderStockReserved', { orderId: 'o-1', reservationId: 'r-1', allocations: [{ lineId: 'l1', sku: 'SKU-TEA-01', warehouseId: 'hz-1', quantity: 2 }] }),
    ];
    const { before, summary, result, timeline } = given(events).when(b.event('OrderPaid', { orderId: 'o-1', amount: 22900, currency: 'CNY', presalePart: 'balance', paidAt: '2026-03-05T09:00:00.000Z' }));
    expect(summary).toMatchObject({ stage: 'stock_reserved', stageEnteredAt: before!.stageEnteredAt, stageVisit: before!.stageVisit, paidAmount: 27900, paidAt: '2026-03-02T01:00:30.000Z' });
    expect(result.stageVisits).toEqual([]);
    expect(timeline).toMatchObject({ whatZh: '尾款支付确认 ¥229.00', whatEn: 'Payment of balance ¥229.00 confirmed', stageAfter: 'stock_reserved' });
    expect(given(events.slice(0, 1)).when(events[1]).timeline).toMatchObject({ whatZh: '定金支付确认 ¥50.00', stageAfter: 'paid' });
  });

  it('OrderPaid: cash collected at delivery (货到付款) keeps the order delivered', () => {
    const b = new EventBuilder(T0);
    const events = [...happyPath(b, 'o-1').filter((e) => e.type !== 'OrderPaid'), b.event('OrderDelivered', { orderId: 'o-1', deliveredAt: '2026-03-04T10:00:00.000Z' })];
    const { summary } = given(events).when(b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paymentRef: 'cod:shp-o-1', paidAt: '2026-03-04T10:00:00.000Z' }));
    expect(summary).toMatchObject({ stage: 'delivered', paidAmount: 27900, paidAt: '2026-03-04T10:00:00.000Z' });
  });

  it('OrderPaid: a change\'s price difference (补差价) adds to what was paid, stage unchanged', () => {
    const { b, events } = reservedOrder();
    const { summary, timeline } = given(events).when(b.event('OrderPaid', { orderId: 'o-1', amount: 1200, currency: 'CNY', changeRequestId: 'cr-1', paidAt: '2026-03-02T02:00:00.000Z' }));
    expect(summary).toMatchObject({ stage: 'stock_reserved', paidAmount: 29100, paidAt: '2026-03-02T01:01:00.000Z' });
    expect(timeline).toMatchObject({ whatZh: '补差价支付确认 ¥12.00', whatEn: 'Payment of change difference ¥12.00 confirmed' });
  });

  forType('OrderStockReserved', 'moves to stock_reserved inside the same SLA segment, so the 2 h clock keeps running', () => {
    const { events, b } = reservedOrder();
    const state = projectInMemory(events, config).summaries.get('o-1')!;
    expect(state).toMatchObject({ stage: 'stock_reserved', slaSegment: 'paid_to_ready', slaStartedAt: '2026-03-02T01:01:00.000Z', slaDueAt: '2026-03-02T03:01:00.000Z', stageEnteredAt: '2026-03-02T01:02:00.000Z' });
    const { timeline } = given(events.slice(0, 2)).when(events[2]);
    expect(timeline.whatZh).toBe('库存已锁定：SKU-TEA-01×2@hz-1');
    expect(b).toBeDefined();
  });

  forType('OrderStockShortage', 'flags the order as an exception that needs a person, stage unchanged', () => {
    const b = new EventBuilder(T0);
    const events = [b.event('OrderPlaced', placedData('o-1')), b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: T0 })];
    const { summary, result, timeline } = given(events).when(b.event('OrderStockShortage', { orderId: 'o-1', missing: [{ sku: 'SKU-TEA-01', requested: 2, available: 0 }] }));
    expect(summary).toMatchObject({ stage: 'paid', exception: true, everException: true, manualTouch: true, exceptionCode: 'stock_shortage', exceptionReason: 'SKU-TEA-01 0/2' });
    expect(summary.shortage).toEqual([{ sku: 'SKU-TEA-01', requested: 2, available: 0 }]);
    expect(result.stageVisits).toEqual([]);
    expect(timeline).toMatchObject({ whatEn: 'Stock shortage; the order is now an exception', whyZh: 'SKU-TEA-01 需要 2，可用 0', whyEn: 'SKU-TEA-01 needs 2, 0 available' });
  });

  describe('the short lines (缺货) stay listed while the shortage keeps the order waiting', () => {
    const short = () => {
      const b = new EventBuilder(T0);
      const events = [
        b.event('OrderPlaced', placedData('o-1')),
        b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: T0 }),
        b.event('OrderStockShortage', { orderId: 'o-1', missing: [{ sku: 'SKU-TEA-01', requested: 2, available: 1 }, { sku: 'SKU-CUP-02', requested: 1, available: 0 }] }),
        // The process manager's flag that follows it carries the same lines.
        b.event('OrderExceptionFlagged', { orderId: 'o-1', code: 'STOCK_SHORTAGE', reason: 'inventory could not reserve every line', details: { missing: [{ sku: 'SKU-TEA-01', requested: 2, available: 1 }, { sku: 'SKU-CUP-02', requested: 1, available: 0 }] } }),
      ];
      return { b, events };
    };
    const lines = [{ sku: 'SKU-TEA-01', requested: 2, available: 1 }, { sku: 'SKU-CUP-02', requested: 1, available: 0 }];

    it('kept through the STOCK_SHORTAGE flag, whose generic reason replaces the text but not the lines, and through another flag on top', () => {
      const { b, events } = short();
      expect(projectInMemory(events, config).summaries.get('o-1')).toMatchObject({ exceptionCode: 'STOCK_SHORTAGE', shortage: lines });
      expect(given(events).when(b.event('OrderExceptionFlagged', { orderId: 'o-1', code: 'ADDRESS_CHECK', reason: '地址待核实' })).summary.shortage).toEqual(lines);
    });

    it('follows an applied change of the lines: a SKU left out is dropped, a kept one takes the changed units', () => {
      const { b, events } = short();
      const line = (lineId: string, sku: string, quantity: number) => ({ lineId, sku, title: sku, quantity, unitPrice: 1000, lineDiscount: 0 });
      const totals = { itemsTotal: 5000, shippingFee: 0, orderDiscount: 0, grandTotal: 5000, currency: 'CNY' };
      const change = (lines: ReturnType<typeof line>[]) =>
        b.event('OrderChanged', { orderId: 'o-1', approvalId: 'ap-1', changeRequestId: 'cr-1', lines, totals, changes: { added: [], removed: [], quantities: [] }, priceDifference: 0 });
      // SKU-CUP-02 removed; SKU-TEA-01 on two lines, 3 + 1 units.
      expect(given(events).when(change([line('l1', 'SKU-TEA-01', 3), line('l3', 'SKU-TEA-01', 1), line('l4', 'SKU-POT-09', 1)])).summary.shortage).toEqual([{ sku: 'SKU-TEA-01', requested: 4, available: 1 }]);
      // Every short SKU gone: nothing listed (the exception stays for a person to resolve).
      expect(given(events).when(change([line('l4', 'SKU-POT-09', 1)])).summary).toMatchObject({ exception: true, shortage: null });
    });

    it('cleared when inventory reserves the stock after all (a redelivered request), though the exception stays open', () => {
      const { b, events } = short();
      expect(given(events).when(b.event('OrderStockReserved', { orderId: 'o-1', reservationId: 'r-1', allocations: [] })).summary).toMatchObject({ stage: 'stock_reserved', exception: true, shortage: null });
    });

    it('cleared when the exception is resolved (the reservation is tried again), and set again by the next shortage', () => {
      const { b, events } = short();
      const resolved = b.event('OrderExceptionResolved', { orderId: 'o-1', reason: '已到货' });
      expect(given(events).when(resolved).summary.shortage).toBeNull();
      const again = b.event('OrderStockShortage', { orderId: 'o-1', missing: [{ sku: 'SKU-CUP-02', requested: 1, available: 0 }] });
      expect(given([...events, resolved]).when(again).summary.shortage).toEqual([{ sku: 'SKU-CUP-02', requested: 1, available: 0 }]);
    });

    it('cleared when the order is cancelled or refunded', () => {
      const { b, events } = short();
      expect(given(events).when(b.event('OrderCancelled', { orderId: 'o-1', reason: '顾客取消', stageAtCancel: 'paid' })).summary.shortage).toBeNull();
      expect(given(events).when(b.event('OrderRefunded', { orderId: 'o-1', amount: 27900, afterShipment: false })).summary.shortage).toBeNull();
    });

    it('a shortage event without a well-formed line lists nothing', () => {
      const b = new EventBuilder(T0);
      const events = [b.event('OrderPlaced', placedData('o-1')), b.event('OrderPaid', { orderId: 'o-1', amount: 27900, currency: 'CNY', paidAt: T0 })];
      expect(given(events).when(b.event('OrderStockShortage', { orderId: 'o-1', missing: [{ sku: 'SKU-TEA-01', requested: Number.NaN, available: 0 }] })).summary).toMatchObject({ exception: true, shortage: null });
    });
  });

  forType('OrderRuleDecided', 'records the rule id, rule-set version and decision, and says why in the timeline', () => {
    const { b, events } = reservedOrder();
    const { summary, timeline, result } = given(events).when(b.event('OrderRuleDecided', { orderId: 'o-1', ruleId: 'vip-priority', ruleSetVersion: 'rs-12', decision: 'priority', ruleSetHash: 'sha256:0123456789ab' }));
    expect(summary).toMatchObject({ stage: 'stock_reserved', lastRuleId: 'vip-priority', lastRuleSetVersion: 'rs-12', lastRuleDecision: 'priority', priority: 'high' });
    expect(result.stageVisits).toEqual([]);
    expect(timeline).toMatchObject({
      ruleId: 'vip-priority', ruleSetVersion: 'rs-12', ruleSetHash: 'sha256:0123456789ab', whatZh: '规则判定：优先处理', whatEn: 'Rule decided: priority handling',
      whyZh: '规则 vip-priority（规则集版本 rs-12）', whyEn: 'rule vip-priority (rule set rs-12)',
    });
  });

  forType('OrderApprovalRequired', 'moves to awaiting_approval with its own 8 h budget and counts as a manual touch', () => {
    const { b, events } = reservedOrder();
    const at = '2026-03-02T01:03:00.000Z';
    const { summary, timeline } = given(events).when(b.event('OrderApprovalRequired', { orderId: 'o-1', chain: 'large-order', ruleId: 'amount-over-5000', ruleSetVersion: 'rs-7' }));
    expect(summary).toMatchObject({
      stage: 'awaiting_approval', stageEnteredAt: at, manualTouch: true, approvalChain: 'large-order',
      slaSegment: 'approval', slaStartedAt: at, slaYellowAt: '2026-03-02T07:27:00.000Z', slaDueAt: '2026-03-02T09:03:00.000Z',
      etaShipBy: '2026-03-03T09:03:00.000Z', lastRuleId: 'amount-over-5000',
    });
    expect(timeline).toMatchObject({
      ruleId: 'amount-over-5000', ruleSetVersion: 'rs-7', whatZh: '需要审批（审批流 large-order）',
      whyZh: '规则 amount-over-5000（规则集版本 rs-7）判定：需要人工审批', whyEn: 'rule amount-over-5000 (rule set rs-7) decided: approval required',
    });
  });

  forType('OrderApproved', 'keeps the stage until ready_to_ship and records who decided', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderApprovalRequired', { orderId: 'o-1', chain: 'large-order', ruleId: 'amount-over-5000', ruleSetVersion: 'rs-7' }));
    const { summary, timeline } = given(events).when(b.event('OrderApproved', { orderId: 'o-1', chain: 'large-order', approvalId: 'ap-1' }, { actor: GM_LI }));
    expect(summary).toMatchObject({ stage: 'awaiting_approval', manualTouch: true });
    expect(timeline).toMatchObject({ whoZh: '总经理 李总', whoEn: 'General manager 李总', whatZh: '审批通过（审批流 large-order）', actorRole: 'general_manager' });
  });

  forType('OrderApprovalRejected', 'records the rejection and its reason', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderApprovalRequired', { orderId: 'o-1', chain: 'large-order', ruleId: 'amount-over-5000', ruleSetVersion: 'rs-7' }));
    const { summary, timeline } = given(events).when(
      b.event('OrderApprovalRejected', { orderId: 'o-1', chain: 'large-order', approvalId: 'ap-1', reason: '价格低于成本', rejectedBy: '李总' }, { actor: GM_LI }),
    );
    expect(summary).toMatchObject({ stage: 'awaiting_approval', manualTouch: true });
    expect(timeline).toMatchObject({ whatEn: 'Approval rejected (chain large-order)', whyZh: '李总：价格低于成本', whyEn: '李总: 价格低于成本' });
  });

  forType('OrderReadyToShip', 'moves to ready_to_ship, starts the 24 h ship clock, and cites the rule that passed the audit', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderRuleDecided', { orderId: 'o-1', ruleId: 'auto-audit', ruleSetVersion: 'rs-7', decision: 'ready_to_ship' }));
    const at = '2026-03-02T01:04:00.000Z';
    const { summary, timeline, result } = given(events).when(b.event('OrderReadyToShip', { orderId: 'o-1', priority: 'high', freeShipping: true, requiresQc: true }));
    expect(summary).toMatchObject({ stage: 'ready_to_ship', readyToShipAt: at, priority: 'high', slaSegment: 'ready_to_shipped', slaStartedAt: at, slaDueAt: '2026-03-03T01:04:00.000Z', etaShipBy: '2026-03-03T01:04:00.000Z' });
    expect(result.stageVisits[0]).toEqual({ kind: 'close', orderId: 'o-1', visit: 3, stage: 'stock_reserved', channel: 'taobao', enteredAt: '2026-03-02T01:02:00.000Z', leftAt: at, durationMs: 120_000 });
    expect(timeline).toMatchObject({
      whatZh: '审单通过，待发货（优先、包邮、需质检）', whatEn: 'Audit passed; ready to ship (priority, free shipping, QC required)',
      ruleId: 'auto-audit', ruleSetVersion: 'rs-7', whyZh: '规则 auto-audit（规则集版本 rs-7）判定：自动审单通过',
    });
  });

  forType('OrderPacked', 'moves to packed in the same ship segment (clock keeps running)', () => {
    const b = new EventBuilder(T0);
    const events = happyPath(b, 'o-1').slice(0, 6);
    const { summary, timeline } = given(events).when(b.event('OrderPacked', { orderId: 'o-1', shipmentId: 's-1', waybillNo: 'WB1' }));
    expect(summary).toMatchObject({ stage: 'packed', slaSegment: 'ready_to_shipped', slaStartedAt: events[5].occurredAt });
    expect(timeline).toMatchObject({ whatZh: '已打包出库，电子面单 WB1', whatEn: 'Packed; waybill WB1' });
  });

  forType('OrderShipped', 'moves to shipped with carrier and tracking number; no SLA clock and never stuck', () => {
    const b = new EventBuilder(T0);
    const events = happyPath(b, 'o-1').slice(0, 8);
    const { summary, timeline } = given(events).when(b.event('OrderShipped', { orderId: 'o-1', shipmentId: 's-1', carrier: 'SF', trackingNumber: 'SF123' }));
    expect(summary).toMatchObject({ stage: 'shipped', carrier: 'SF', trackingNumber: 'SF123', shippedAt: summary.stageEnteredAt, slaSegment: null, slaDueAt: null, stuckAt: null, etaShipBy: null });
    expect(timeline).toMatchObject({ whatZh: '已发货：SF，运单号 SF123' });
  });

  it('ends the ready -> shipped segment at the real handover time fulfillment reported, not when the order recorded it', () => {
    const b = new EventBuilder(T0);
    const events = [...happyPath(b, 'o-1').slice(0, 8), b.event('OrderPacked', { orderId: 'o-1', shipmentId: 's-1' })];
    const shipped = b.event('OrderShipped', { orderId: 'o-1', shipmentId: 's-1', carrier: 'SF', trackingNumber: 'SF123' });
    // Handed over 30 s after packing, recorded by the order 30 s later.
    const handover = new Date(Date.parse(shipped.occurredAt) - 30_000).toISOString();
    const { summary } = given(events).when({ ...shipped, data: { ...shipped.data, shippedAt: handover } });
    expect(summary).toMatchObject({ stage: 'shipped', shippedAt: handover, stageEnteredAt: handover });
  });

  forType('OrderDelivered', 'moves to delivered with the carrier-reported time', () => {
    const b = new EventBuilder(T0);
    const events = happyPath(b, 'o-1');
    const { summary, timeline } = given(events).when(b.event('OrderDelivered', { orderId: 'o-1', deliveredAt: '2026-03-04T10:00:00.000Z' }));
    expect(summary).toMatchObject({ stage: 'delivered', deliveredAt: '2026-03-04T10:00:00.000Z', closedAt: null });
    expect(timeline).toMatchObject({ whatZh: '顾客已签收', whatEn: 'Delivered to the customer' });
  });

  forType('OrderArchived', 'closes the order', () => {
    const b = new EventBuilder(T0);
    const events = [...happyPath(b, 'o-1'), b.event('OrderDelivered', { orderId: 'o-1', deliveredAt: T0 })];
    const e = b.event('OrderArchived', { orderId: 'o-1' });
    const { summary, timeline } = given(events).when(e);
    expect(summary).toMatchObject({ stage: 'archived', closedAt: e.occurredAt });
    expect(timeline.whatZh).toBe('售后期结束，订单归档');
  });

  forType('OrderCancelled', 'is terminal: clears flags, closes the order, and later stage events do not reopen it', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderPutOnHold', { orderId: 'o-1', reason: '地址待确认' }, { actor: CS_WANG }));
    const cancel = b.event('OrderCancelled', { orderId: 'o-1', reason: '顾客要求取消', stageAtCancel: 'stock_reserved' }, { actor: { kind: 'customer', id: 'c-1', name: '张三' } });
    const { summary, timeline } = given(events).when(cancel);
    expect(summary).toMatchObject({ stage: 'cancelled', closedAt: cancel.occurredAt, onHold: false, holdReason: null, slaSegment: null, stuckAt: null });
    expect(timeline).toMatchObject({ whoZh: '顾客 张*', whoEn: 'Customer 张*', actorName: '张*', whatZh: '订单已取消（取消时处于「库存锁定」）', whatEn: 'Order cancelled (was Stock reserved)', whyZh: '顾客要求取消' });
    const after = projectEvent(summary, b.event('OrderReadyToShip', { orderId: 'o-1', priority: 'normal', freeShipping: false, requiresQc: false }), config);
    expect(after.summary?.stage).toBe('cancelled');
    expect(after.stageVisits).toEqual([]);
  });

  forType('OrderRefundRequested', 'marks a refund as requested, stage unchanged', () => {
    const { b, events } = reservedOrder();
    const { summary, timeline } = given(events).when(b.event('OrderRefundRequested', { orderId: 'o-1', amount: 27900, reason: '不想要了', stageAtRequest: 'stock_reserved' }, { actor: CS_WANG }));
    expect(summary).toMatchObject({ stage: 'stock_reserved', refundRequested: true, manualTouch: true });
    expect(timeline).toMatchObject({ whoZh: '客服 王芳', whatZh: '申请退款 ¥279.00', whatEn: 'Refund of ¥279.00 requested', whyZh: '不想要了' });
  });

  forType('OrderRefunded', 'before shipment: terminal refunded stage; after shipment: recorded, stage kept', () => {
    const { b, events } = reservedOrder();
    const before = b.event('OrderRefunded', { orderId: 'o-1', amount: 27900, afterShipment: false });
    const r1 = given(events).when(before);
    expect(r1.summary).toMatchObject({ stage: 'refunded', refundedAmount: 27900, closedAt: before.occurredAt });
    expect(r1.timeline.whatZh).toBe('已退款 ¥279.00，订单关闭');

    const b2 = new EventBuilder(T0);
    const shipped = happyPath(b2, 'o-1');
    const r2 = given(shipped).when(b2.event('OrderRefunded', { orderId: 'o-1', amount: 12800, afterShipment: true }));
    expect(r2.summary).toMatchObject({ stage: 'shipped', refundedAmount: 12800, closedAt: null });
    expect(r2.result.stageVisits).toEqual([]);
    expect(r2.timeline.whatEn).toBe('Refunded ¥128.00 (after shipment; returns flow)');
  });

  forType('OrderPutOnHold', 'sets the on_hold flag and reason; cites a hold_for_review rule', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderRuleDecided', { orderId: 'o-1', ruleId: 'risky-address', ruleSetVersion: 'rs-7', decision: 'hold_for_review' }));
    const { summary, timeline, result } = given(events).when(b.event('OrderPutOnHold', { orderId: 'o-1', reason: '地址可疑' }));
    expect(summary).toMatchObject({ stage: 'stock_reserved', onHold: true, holdReason: '地址可疑', manualTouch: true });
    expect(result.stageVisits).toEqual([]);
    expect(timeline).toMatchObject({ whatZh: '订单挂起', ruleId: 'risky-address', whyZh: '地址可疑；规则 risky-address（规则集版本 rs-7）' });
  });

  it('OrderPutOnHold: names the rule the event carries', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderRuleDecided', { orderId: 'o-1', ruleId: 'blocked-buyer', ruleSetVersion: 'rs-8', decision: 'hold_for_review' }));
    const { timeline } = given(events).when(b.event('OrderPutOnHold', { orderId: 'o-1', reason: '买家在黑名单', ruleId: 'blocked-buyer' }));
    expect(timeline).toMatchObject({ ruleId: 'blocked-buyer', ruleSetVersion: 'rs-8', whyEn: '买家在黑名单; rule blocked-buyer (rule set rs-8)' });
  });

  forType('OrderHoldReleased', 'clears the on_hold flag', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderPutOnHold', { orderId: 'o-1', reason: '地址可疑' }));
    const { summary, timeline } = given(events).when(b.event('OrderHoldReleased', { orderId: 'o-1', reason: '已电话确认' }, { actor: CS_WANG }));
    expect(summary).toMatchObject({ onHold: false, holdReason: null, manualTouch: true });
    expect(timeline).toMatchObject({ whatZh: '解除挂起', whyZh: '已电话确认', whoZh: '客服 王芳' });
  });

  forType('OrderExceptionFlagged', 'sets the exception flag with code and reason', () => {
    const { b, events } = reservedOrder();
    const { summary, timeline } = given(events).when(b.event('OrderExceptionFlagged', { orderId: 'o-1', code: 'address_invalid', reason: '地址无法派送' }));
    expect(summary).toMatchObject({ exception: true, everException: true, exceptionCode: 'address_invalid', exceptionReason: '地址无法派送', manualTouch: true });
    expect(timeline).toMatchObject({ whatZh: '标记为异常（address_invalid）', whatEn: 'Flagged as exception (address_invalid)', whyEn: '地址无法派送' });
  });

  forType('OrderExceptionResolved', 'clears the flag but remembers the order had an exception (KPI)', () => {
    const { b, events } = reservedOrder();
    events.push(b.event('OrderExceptionFlagged', { orderId: 'o-1', code: 'address_invalid', reason: '地址无法派送' }));
    const { summary, timeline } = given(events).when(b.event('OrderExceptionResolved', { orderId: 'o-1', reason: '已改地址' }, { actor: CS_WANG }));
    expect(summary).toMatchObject({ exception: false, exceptionCode: null, exceptionReason: null, everException: true });
    expect(timeline).toMatchObject({ whatZh: '异常已处理', whyZh: '已改地址' });
  });

  forType('OrderChanged', 'an approved change request: new grand total, a person touched the order, the diff on the timeline', () => {
    const { b, events } = reservedOrder();
    const line = { lineId: 'L2', sku: 'CUP', title: '茶杯', quantity: 2, unitPrice: 8800, lineDiscount: 0 };
    const { summary, timeline } = given(events).when(
      b.event('OrderChanged', {
        orderId: 'o-1', approvalId: 'ap-1', changeRequestId: 'ap-1', lines: [line], totals: { itemsTotal: 17600, shippingFee: 0, orderDiscount: 0, grandTotal: 17600, currency: 'CNY' },
        changes: { added: ['L2'], removed: ['l1'], quantities: [] }, priceDifference: -10300,
      }),
    );
    expect(summary).toMatchObject({ grandTotal: 17600, manualTouch: true, skus: ['CUP'] });
    expect(timeline).toMatchObject({ whatZh: '订单已变更：+L2，-l1，差价 -10300 分' });
  });

  it('OrderPlaced: keeps the phone tail (尾号) and the distinct SKUs of the lines for search, never the full phone', () => {
    const b = new EventBuilder(T0);
    const lines = placedData('o-1').lines;
    const data = placedData('o-1', { customer: { nickname: '小明', phoneMasked: '13812349876', tags: [] }, lines: [...lines, { ...lines[0]!, lineId: 'l3' }] });
    const { summary } = given([]).when(b.event('OrderPlaced', data, { actor: CS_WANG }));
    expect(summary).toMatchObject({ customerPhoneMasked: '138****9876', phoneTail: '9876', skus: ['SKU-CUP-02', 'SKU-TEA-01'] });
    expect(JSON.stringify(summary)).not.toContain('13812349876');
  });

  it('OrderPlaced: no phone, or one masked down to stars, has no phone tail', () => {
    const b = new EventBuilder(T0);
    const noPhone = placedData('o-1', { customer: { nickname: '小明', tags: [] }, shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区' } });
    expect(given([]).when(b.event('OrderPlaced', noPhone)).summary).toMatchObject({ customerPhoneMasked: null, phoneTail: null });
    const stars = placedData('o-1', { customer: { nickname: '小明', phoneMasked: '1234', tags: [] } });
    expect(given([]).when(b.event('OrderPlaced', stars)).summary).toMatchObject({ customerPhoneMasked: '****', phoneTail: null });
  });

  forType('OrderChangeRefused', 'the order could not take the change: stage and total unchanged, the reason on the timeline', () => {
    const { b, events } = reservedOrder();
    const { before, summary, timeline } = given(events).when(b.event('OrderChangeRefused', { orderId: 'o-1', approvalId: 'ap-1', changeRequestId: 'ap-1', reason: '已打包', stage: 'packed', shipmentId: 's-1' }));
    expect(summary).toMatchObject({ stage: before?.stage, grandTotal: before?.grandTotal });
    expect(timeline).toMatchObject({ whatZh: '订单变更未执行（订单已打包或已发出）', whyZh: '已打包' });
  });

  it('OrderChanged with a new address: the masked address on the timeline, the destination moves', () => {
    const { b, events } = reservedOrder();
    const line = { lineId: 'l1', sku: 'A', title: 't', quantity: 1, unitPrice: 100, lineDiscount: 0 };
    const { summary, timeline } = given(events).when(
      b.event('OrderChanged', {
        orderId: 'o-1', approvalId: 'ap-2', changeRequestId: 'ap-2', lines: [line], totals: { itemsTotal: 100, shippingFee: 0, orderDiscount: 0, grandTotal: 100, currency: 'CNY' },
        changes: { added: [], removed: [], quantities: [] }, priceDifference: 0,
        shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山******', recipientMasked: '韩**' }, shippingMethod: 'express',
      }),
    );
    expect(summary).toMatchObject({ province: '浙江省', city: '宁波市' });
    expect(timeline).toMatchObject({ whatZh: '订单已变更：新地址 浙江省宁波市海曙区中山****** 韩**，配送方式 express，差价 0 分' });
  });

  forType('OrderPaymentDue', 'a change made a payment due: stage and total unchanged, the amount on the timeline', () => {
    const { b, events } = reservedOrder();
    const { before, summary, timeline } = given(events).when(b.event('OrderPaymentDue', { orderId: 'o-1', approvalId: 'ap-1', changeRequestId: 'ap-1', amount: 17600, priceDifference: 17600, currency: 'CNY' }));
    expect(summary).toMatchObject({ stage: before?.stage, grandTotal: before?.grandTotal });
    expect(timeline).toMatchObject({ whatZh: '订单变更需补款 17600 分（付清前不发货）' });
  });

  forType('OrderPartialRefundRequested', 'a change asks for a partial refund: the amount and reason on the timeline', () => {
    const { b, events } = reservedOrder();
    const { summary, timeline } = given(events).when(
      b.event('OrderPartialRefundRequested', { orderId: 'o-1', approvalId: 'ap-1', changeRequestId: 'ap-1', amount: 8800, priceDifference: -8800, currency: 'CNY', reason: '少一件' }),
    );
    expect(summary).toMatchObject({ refundRequested: false });
    expect(timeline).toMatchObject({ whatZh: '订单变更需部分退款 8800 分（待财务确认）', whyZh: '少一件' });
  });

  forType('OrderPartialRefunded', 'a partial refund paid: counted in the refunded amount, the stage stays', () => {
    const { b, events } = reservedOrder();
    const { before, summary } = given(events).when(b.event('OrderPartialRefunded', { orderId: 'o-1', changeRequestId: 'ap-1', amount: 8800 }));
    expect(summary).toMatchObject({ stage: before?.stage, refundedAmount: (before?.refundedAmount ?? 0) + 8800 });
  });

  forType('OrderPiiRevealed', 'an audited reveal: timeline "PII revealed by <who> (<reason>)" with the fields; no manual touch, no activity on the summary', () => {
    const { b, events } = reservedOrder();
    const actor = { kind: 'user' as const, id: 'cs', role: 'customer_service', name: '王芳', clientId: 'flowline-console' };
    const { before, summary, timeline } = given(events).when(
      b.event('OrderPiiRevealed', { orderId: 'o-1', fields: ['customer.phone', 'shippingAddress.street'], reason: '顾客来电核对地址', revealedAt: T0 }, { actor }),
    );
    expect(summary).toMatchObject({ stage: before?.stage, manualTouch: before?.manualTouch, lastEventAt: before?.lastEventAt, eventCount: (before?.eventCount ?? 0) + 1 });
    expect(timeline).toMatchObject({
      whatZh: '客服 王芳 查看了完整个人信息（顾客来电核对地址）',
      whatEn: 'PII revealed by Customer service 王芳 (顾客来电核对地址)',
      whyZh: '字段：顾客电话、详细地址',
      whyEn: 'fields: customer phone, street address',
      actorId: 'cs',
    });
  });
});

describe('events of other contexts -> timeline only', () => {
  const cases: { [T in TrackedEventType]?: { data: DataOf<T>; zh: string; en: string; whyZh?: string } } = {
    StockReserved: { data: { orderId: 'o-1', reservationId: 'r-1', allocations: [{ lineId: 'l1', sku: 'A', warehouseId: 'hz-1', quantity: 1 }] }, zh: '仓库预占库存：A×1@hz-1', en: 'Inventory reserved A×1@hz-1' },
    StockShortage: { data: { orderId: 'o-1', missing: [{ sku: 'A', requested: 3, available: 1 }] }, zh: '仓库库存不足，无法预占', en: 'Inventory could not reserve: shortage', whyZh: 'A 需要 3，可用 1' },
    StockReleased: { data: { orderId: 'o-1', reservationId: 'r-1', reason: 'cancelled' }, zh: '预占库存已释放', en: 'Reserved stock released', whyZh: '订单取消' },
    StockCommitted: { data: { orderId: 'o-1', reservationId: 'r-1' }, zh: '库存已出库扣减', en: 'Stock committed (left the warehouse)' },
    StockLinesReleased: {
      data: { orderId: 'o-1', reservationId: 'r-1', released: [{ lineId: 'l1', sku: 'A', warehouseId: 'hz-1', quantity: 1 }], reason: '订单变更' },
      zh: '部分预占库存已释放：A×1@hz-1',
      en: 'Part of the reserved stock released: A×1@hz-1',
      whyZh: '订单变更',
    },
    StockWentNegative: {
      data: { orderId: 'o-1', sku: 'A', warehouseId: 'hz-1', onHand: 0, reserved: 3, available: -3, at: T0 },
      zh: '库存异常：A 在 hz-1 的可用库存为 -3（已释放后仍发货）',
      en: 'Stock exception: A in hz-1 went to -3 available (shipped after release)',
      whyZh: '在库 0，已预占 3',
    },
    ApprovalRequested: { data: { approvalId: 'ap-1', orderId: 'o-1', chain: 'custom', steps: ['sales', 'designer'] }, zh: '发起审批（custom）：sales → designer', en: 'Approval started (custom): sales -> designer' },
    ApprovalStepApproved: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'designer', role: 'designer', by: '陈设计', comment: '图纸可行' }, zh: '设计 陈设计 审批通过（designer）', en: 'Designer 陈设计 approved (designer)', whyZh: '图纸可行' },
    ApprovalGranted: { data: { approvalId: 'ap-1', orderId: 'o-1', chain: 'custom' }, zh: '全部审批通过（custom）', en: 'Every approval step passed (custom)' },
    ApprovalRejected: { data: { approvalId: 'ap-1', orderId: 'o-1', chain: 'custom', step: 'cost', by: '周会计', reason: '成本超标' }, zh: '周会计 在「cost」环节驳回', en: '周会计 rejected at step cost', whyZh: '成本超标' },
    ApprovalWithdrawn: { data: { approvalId: 'ap-1', orderId: 'o-1', reason: '订单已取消' }, zh: '审批已撤回', en: 'Approval withdrawn', whyZh: '订单已取消' },
    ApprovalStepStarted: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'design_review', role: 'designer', quorum: 'any', attempt: 1, startedAt: T0, remindAt: T0, dueAt: '2026-03-02T09:00:00.000Z' }, zh: '等待设计审批（设计审核，第 1 次，时限 北京时间 2026-03-02 17:00）', en: 'Waiting for Designer (design review, attempt 1, due 2026-03-02 17:00 Beijing time)' },
    ApprovalStepSkipped: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'cost_review', reason: '金额低于阈值', skippedAt: T0 }, zh: '跳过审批环节「成本核算」', en: 'Step cost review skipped', whyZh: '金额低于阈值' },
    ApprovalStepDelegated: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'design_review', from: 'role:designer', to: 'user:u-d2', by: 'u-d1', reason: '休假', delegatedAt: T0 }, zh: 'u-d1 将「设计审核」转交 user:u-d2', en: 'u-d1 delegated design review to user:u-d2', whyZh: '休假' },
    ApprovalVoteRecorded: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'board', by: 'u-d1', role: 'designer', remaining: ['user:u-d2'], votedAt: T0 }, zh: 'u-d1 同意（board），尚待 user:u-d2', en: 'u-d1 approved (board); still waiting for user:u-d2' },
    ApprovalReturned: { data: { approvalId: 'ap-1', orderId: 'o-1', chain: 'custom', step: 'design_review', by: '陈设计', role: 'designer', comment: '尺寸需改', kind: 'order', chainVersion: 'v1', returnedAt: T0 }, zh: '设计 陈设计 退回修改（设计审核）', en: 'Designer 陈设计 returned it for changes (design review)', whyZh: '尺寸需改' },
    ApprovalResubmitted: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'design_review', by: 'u-s1', comment: '已修改', resubmittedAt: T0 }, zh: 'u-s1 修改后重新提交（设计审核）', en: 'u-s1 resubmitted after changes (design review)', whyZh: '已修改' },
    ApprovalStepReminded: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'gm_approval', attempt: 1, principals: ['role:general_manager'], remindedAt: T0, dueAt: '2026-03-02T09:00:00.000Z' }, zh: '审批提醒：「总经理审批」临近时限 北京时间 2026-03-02 17:00', en: 'Reminder: general manager approval is due 2026-03-02 17:00 Beijing time' },
    ApprovalStepEscalated: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'gm_approval', attempt: 1, to: 'role:board', escalatedAt: T0, expireAt: T0 }, zh: '审批超时，「总经理审批」已升级至 role:board', en: 'Overdue: general manager approval escalated to role:board' },
    ApprovalExpired: { data: { approvalId: 'ap-1', orderId: 'o-1', step: 'gm_approval', attempt: 1, expiredAt: T0 }, zh: '审批过期（总经理审批）', en: 'Approval expired (general manager approval)' },
    ApprovalFreezeOverridden: { data: { approvalId: 'ap-1', orderId: 'o-1', shipmentIds: ['s-1'], by: 'u-gm', role: 'general_manager', reason: '客户改地址', overriddenAt: T0 }, zh: '总经理特批：已打包（s-1）仍允许变更，u-gm', en: 'Manager override of the packing freeze (s-1) by u-gm', whyZh: '客户改地址' },
    ChangeApproved: {
      data: { approvalId: 'ap-1', orderId: 'o-1', changeRequestId: 'ap-1', diff: { lines: { added: [{ lineId: 'L2', sku: 'B', title: 'b', quantity: 1, unitPrice: 500, lineDiscount: 0 }], removed: [], changed: [] }, totals: { before: { itemsTotal: 1, shippingFee: 0, orderDiscount: 0, grandTotal: 1, currency: 'CNY' }, after: { itemsTotal: 501, shippingFee: 0, orderDiscount: 0, grandTotal: 501, currency: 'CNY' } }, priceDifference: 500 }, approvedAt: T0 },
      zh: '订单变更已批准：新增 1 行，删除 0 行，改数量 0 行，差价 ¥5.00',
      en: 'Change approved: 1 added, 0 removed, 0 quantity changes, price difference ¥5.00',
    },
    ChangeRefused: { data: { approvalId: 'ap-1', orderId: 'o-1', changeRequestId: 'ap-1', code: 'CHANGE_NO_STOCK', reason: '库存不足', refusedAt: T0 }, zh: '订单变更被拒绝（整单不变更）', en: 'Change refused as a whole', whyZh: '库存不足' },
    ShipmentPacked: { data: { orderId: 'o-1', shipmentId: 's-1', waybillNo: 'WB9' }, zh: '仓库打包完成，电子面单 WB9', en: 'Warehouse packed the shipment; waybill WB9' },
    ShipmentShipped: { data: { orderId: 'o-1', shipmentId: 's-1', carrier: 'ZTO', trackingNumber: 'Z1' }, zh: '已交承运商 ZTO，运单号 Z1', en: 'Handed to ZTO, tracking number Z1' },
    ShipmentDelivered: { data: { orderId: 'o-1', shipmentId: 's-1', deliveredAt: T0 }, zh: '承运商回传：已签收', en: 'Carrier reports delivery' },
    FulfillmentStopped: { data: { orderId: 'o-1', reason: '订单取消', wasPacked: true }, zh: '停止履约：已打包，拆包回库', en: 'Fulfilment stopped: packed units go back to stock', whyZh: '订单取消' },
    ShipmentInterceptRequested: { data: { orderId: 'o-1', shipmentId: 's-1', reason: '订单取消', warehouseId: 'WH-1', requestedAt: T0 }, zh: '已打包包裹 s-1 需拦截（仓库确认）', en: 'Packed parcel s-1 must be intercepted (warehouse to confirm)', whyZh: '订单取消' },
    ShipmentTrackingUpdated: { data: { orderId: 'o-1', shipmentId: 's-1', carrier: 'SIM', trackingNumber: 'Z1', state: 'in_transit', description: '运输中', at: T0 }, zh: '物流更新（SIM Z1）：运输中', en: 'Carrier update (SIM Z1): in_transit' },
    ShipmentCarrierException: { data: { orderId: 'o-1', shipmentId: 's-1', carrier: 'SIM', trackingNumber: 'Z1', description: '地址不详', at: T0 }, zh: '物流异常（SIM Z1）', en: 'Carrier problem (SIM Z1)', whyZh: '地址不详' },
    FreezeOverridden: { data: { orderId: 'o-1', actor: { id: 'gm', role: 'general_manager' }, reason: '客户改地址', at: T0 }, zh: '特批：解除打包后冻结', en: 'Freeze after packing overridden', whyZh: '客户改地址' },
    NotificationSent: { data: { notificationId: 'n-1', orderId: 'o-1', channel: 'sms', template: 'order_shipped', templateVersion: 1, ruleId: 'r', rulesVersion: 'v1', recipientKind: 'customer', recipientMasked: '138****5678', triggerEventId: 'e-1', triggerEventType: 'OrderShipped', attempts: 2, delivered: false, sentAt: T0 }, zh: '已通知顾客 138****5678（短信，order_shipped）', en: 'Notified the customer 138****5678 (SMS, order_shipped)', whyZh: '第 2 次尝试成功' },
    NotificationFailed: { data: { notificationId: 'n-2', orderId: 'o-1', channel: 'wechat_subscribe', template: 'order_change_approved', templateVersion: 1, ruleId: 'r', rulesVersion: 'v1', recipientKind: 'customer', recipientMasked: 'oAbc****xyz9', triggerEventId: 'e-1', triggerEventType: 'OrderApproved', attempts: 1, code: '43101', reason: 'user refuse to accept the msg', retried: false, failedAt: T0 }, zh: '通知未送达：oAbc****xyz9（微信小程序，order_change_approved）', en: 'Notification not delivered: oAbc****xyz9 (WeChat mini program, order_change_approved)', whyZh: '43101：user refuse to accept the msg' },
    NotificationSuppressed: { data: { notificationId: 'n-3', orderId: 'o-1', channel: 'sms', template: 'order_paid', templateVersion: 1, ruleId: 'r', rulesVersion: 'v1', recipientKind: 'customer', recipientMasked: '138****5678', triggerEventId: 'e-1', triggerEventType: 'OrderPaid', reason: 'opted_out', suppressedAt: T0 }, zh: '未发送通知（短信，order_paid）', en: 'Notification not sent (SMS, order_paid)', whyZh: '顾客已退订该渠道' },
    ReturnRequested: { data: { orderId: 'o-1', shipmentId: 's-1', rmaId: 'RMA-1', warehouseId: 'WH-1', lines: [{ sku: 'A', quantity: 1 }], reason: '七天无理由', at: T0 }, zh: '退货申请 RMA-1：A×1', en: 'Return RMA-1 opened: Ax1', whyZh: '七天无理由' },
    ReturnReceived: { data: { orderId: 'o-1', shipmentId: 's-1', rmaId: 'RMA-1', warehouseId: 'WH-1', lines: [{ sku: 'A', quantity: 1, condition: 'resellable' }], at: T0 }, zh: '退货已入库 RMA-1：A×1（可售，回库）', en: 'Return RMA-1 received: Ax1 (restocked)' },
    WorkOrderProgressed: { data: { orderId: 'o-1', workOrderId: 'WO-1', status: 'in_production', percent: 60, message: '待抛光', at: T0 }, zh: '工厂工单 WO-1：生产中 60%', en: 'Work order WO-1: in production 60%', whyZh: '待抛光' },
  };
  for (const [type, c] of Object.entries(cases) as [TrackedEventType, { data: never; zh: string; en: string; whyZh?: string }][]) {
    forType(type, 'adds a readable timeline line and leaves the summary and stage durations alone', () => {
      const { b, events } = reservedOrder();
      const e = b.event(type, c.data, { actor: { kind: 'service', id: 'svc' } });
      const { before, result, timeline } = given(events).when(e);
      expect(result.summary).toBe(before);
      expect(result.summaryChanged).toBe(false);
      expect(result.stageVisits).toEqual([]);
      expect(timeline).toMatchObject({ eventId: e.eventId, orderId: 'o-1', type, whatZh: c.zh, whatEn: c.en, whoZh: '系统（svc）', stageAfter: null });
      if (c.whyZh) expect(timeline.whyZh).toBe(c.whyZh);
      expect(['inventory', 'approval', 'fulfillment', 'notification']).toContain(timeline.context);
    });
  }

  const skuLevel: { [T in TrackedEventType]?: DataOf<T> } = {
    StockReceived: { sku: 'A', warehouseId: 'hz-1', quantity: 10 },
    StockAdjusted: { sku: 'A', warehouseId: 'hz-1', delta: -1, reason: 'damage' },
    StockLevelChanged: { sku: 'A', warehouseId: 'hz-1', onHand: 9, reserved: 2, available: 7 },
    AvailableToPromiseChanged: { sku: 'A', channel: 'taobao', atp: 7 },
    LowStockAlerted: { sku: 'A', available: 2, threshold: 5 },
  };
  for (const [type, data] of Object.entries(skuLevel) as [TrackedEventType, never][]) {
    forType(type, 'is about a SKU, not an order: no rows at all', () => {
      const b = new EventBuilder(T0);
      const result = projectEvent(null, b.event(type, data), config);
      expect(result).toEqual({ orderId: undefined, summary: null, summaryChanged: false, timeline: undefined, stageVisits: [] });
    });
  }
});

describe('projection rules', () => {
  it('covers every event type tracking consumes', () => {
    expect([...covered].sort()).toEqual([...TRACKED_EVENT_TYPES].sort());
  });

  it('ignores order events before OrderPlaced for the summary but still records them in the timeline', () => {
    const b = new EventBuilder(T0);
    const r = projectEvent(null, b.event('OrderPaid', { orderId: 'o-1', amount: 1, currency: 'CNY', paidAt: T0 }), config);
    expect(r.summary).toBeNull();
    expect(r.timeline?.type).toBe('OrderPaid');
  });

  it('ignores a redelivered older stream position and a second OrderPlaced', () => {
    const { events } = reservedOrder();
    const state = projectInMemory(events, config).summaries.get('o-1')!;
    const stale = { ...events[1], eventId: 'other-id' };
    expect(projectEvent(state, stale, config).summary).toBe(state);
    expect(projectEvent(state, { ...events[0], eventId: 'again' }, config).summary).toBe(state);
  });

  it('applies each event id once', () => {
    const { events } = reservedOrder();
    const once = projectInMemory(events, config);
    const twice = projectInMemory([...events, ...events], config);
    expect(twice.summaries.get('o-1')).toEqual(once.summaries.get('o-1'));
    expect(twice.summaries.get('o-1')!.eventCount).toBe(3);
  });

  it('gives the same rows whatever the interleaving of topics (live vs replay)', () => {
    const b = new EventBuilder(T0);
    const events = [...happyPath(b, 'o-1'), ...happyPath(b, 'o-2', 'jd')];
    const orders = events.filter((e) => e.type.startsWith('Order'));
    const others = events.filter((e) => !e.type.startsWith('Order'));
    const live = projectInMemory(events, config);
    const replay = projectInMemory([...others, ...orders], config);
    expect([...replay.summaries.entries()].sort()).toEqual([...live.summaries.entries()].sort());
    expect([...replay.timeline.entries()].sort()).toEqual([...live.timeline.entries()].sort());
    expect([...replay.visits.entries()].sort()).toEqual([...live.visits.entries()].sort());
  });

  it('as-of folds only the order events up to the moment asked', () => {
    const b = new EventBuilder(T0);
    const events = happyPath(b, 'o-1');
    const paidAt = events[1].occurredAt;
    expect(summaryAsOf(events, '2026-03-02T00:00:00.000Z', config)).toBeNull();
    expect(summaryAsOf(events, paidAt, config)?.stage).toBe('paid');
    expect(summaryAsOf(events, new Date(Date.parse(events[5].occurredAt) + 1).toISOString(), config)?.stage).toBe('ready_to_ship');
    expect(summaryAsOf(events, '2030-01-01T00:00:00.000Z', config)?.stage).toBe('shipped');
  });
});

describe('event versions', () => {
  it('reads schema version 1 as is, and ignores a version newer than this build knows and a type it does not track', () => {
    const b = new EventBuilder(T0);
    const e = b.event('OrderPaid', { orderId: 'o-1', amount: 1, currency: 'CNY', paidAt: T0 });
    expect(asTrackedEvent(e)).toBe(e);
    expect(asTrackedEvent({ ...e, schemaVersion: 99 })).toBeUndefined();
    expect(asTrackedEvent({ ...e, type: 'OrderTeleported' })).toBeUndefined();
  });
});
