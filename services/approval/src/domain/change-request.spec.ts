import { deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { approvalDecider, type ApprovalCommand, type ApprovalEvent } from './approval.decider';
import { parseChainSet } from './chains/chain-set.parser';
import { changePrivateOf, computeChange, freezeCheck, nextHoldings, planChangeRelease, type ChangeHolding, type OrderSnapshot } from './change-request';
import { approvalRelayRoute } from '../infra/approval-relay.routes';
import { Topics } from '@flowline/contracts';
import type { RecordedEvent } from '@flowline/eventstore';

const recorded = (e: ApprovalEvent): RecordedEvent => ({ type: e.type, data: e.data }) as unknown as RecordedEvent;
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const chains = parseChainSet(readFileSync(resolve(__dirname, '../../chains/default.chains.yaml'), 'utf8'));
const order: OrderSnapshot = {
  orderId: 'o-1',
  channel: 'tmall',
  stage: 'ready_to_ship',
  lines: [{ lineId: 'L1', sku: 'TEA', title: '龙井', quantity: 2, unitPrice: 12800, lineDiscount: 0 }],
  totals: { itemsTotal: 25600, shippingFee: 1000, orderDiscount: 600, grandTotal: 26000, currency: 'CNY' },
  shippingAddress: { province: '浙江省', city: '杭州市', district: '西湖区' },
  packedShipments: [],
};
const cup = { lineId: 'L2', sku: 'CUP', title: '茶杯', quantity: 2, unitPrice: 8800, lineDiscount: 0 };
const cs = { id: 'u-cs', role: 'customer_service' };
const T = '2026-12-04T10:00:00.000Z';

describe('change request diff', () => {
  it('adding a line: the diff lists it and the price difference is an extra payment', () => {
    const d = computeChange(order, { addLines: [cup] });
    expect(d.lines).toEqual({ added: [cup], removed: [], changed: [] });
    expect(d.totals.after.grandTotal).toBe(26000 + 17600);
    expect(d.priceDifference).toBe(17600);
  });

  it('a lower quantity is a partial refund; an unknown line is refused naming the field; a shipped order cannot change', () => {
    expect(computeChange(order, { quantities: [{ lineId: 'L1', quantity: 1 }] }).priceDifference).toBe(-12800);
    expect(() => computeChange(order, { removeLineIds: ['L9'] })).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID', details: { field: 'removeLineIds.0', reason: 'no line L9 on the order' } }));
    expect(() => computeChange({ ...order, stage: 'shipped' }, { addLines: [cup] })).toThrow(expect.objectContaining({ code: 'CHANGE_NOT_ALLOWED' }));
    expect(() => computeChange(order, {})).toThrow(expect.objectContaining({ code: 'CHANGE_EMPTY' }));
  });

  it('frozen once packed, naming the shipment; only a general manager overrides, with a reason', () => {
    const packed = { ...order, stage: 'packed', packedShipments: ['SHP-1'] };
    expect(freezeCheck(order, cs, undefined)).toBeNull();
    expect(() => freezeCheck(packed, cs, undefined)).toThrow(expect.objectContaining({ code: 'CHANGE_FROZEN', details: { orderId: 'o-1', shipmentIds: ['SHP-1'] } }));
    expect(() => freezeCheck(packed, cs, { reason: 'x' })).toThrow(expect.objectContaining({ code: 'CHANGE_OVERRIDE_NOT_ALLOWED' }));
    expect(freezeCheck(packed, { id: 'u-gm', role: 'general_manager' }, { reason: '客户加急' })).toEqual({ shipmentIds: ['SHP-1'], by: 'u-gm', role: 'general_manager', reason: '客户加急' });
  });
});

describe('change request through its chain', () => {
  const spec = deciderSpec(approvalDecider);
  const request = (diff = computeChange(order, { addLines: [cup] }), freezeOverride?: { shipmentIds: string[]; by: string; role: string; reason: string }): ApprovalCommand => ({
    type: 'RequestApproval',
    data: {
      approvalId: 'ap-c', orderId: 'o-1', kind: 'change', changeRequestId: 'ap-c', chain: chains.chains['order-change'], chainVersion: chains.version, chainHash: chains.hash,
      facts: { grandTotal: diff.totals.after.grandTotal, priceDifference: diff.priceDifference }, outOfOffice: [], change: diff, channel: 'tmall', ...(freezeOverride ? { freezeOverride } : {}), now: T,
    },
  });
  const approve = (step: string, role: string): ApprovalCommand => ({ type: 'Approve', data: { step, actor: { id: `u-${role}`, role }, now: T } });
  function run(...commands: ApprovalCommand[]): ApprovalEvent[] {
    const events: ApprovalEvent[] = [];
    for (const c of commands) events.push(...approvalDecider.decide(c, spec.given(events).state));
    return events;
  }

  it('customer service -> warehouse -> finance; granted, it asks inventory for the added units in its own reservation', () => {
    const h = run(request(), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'));
    spec.given(h).when(approve('finance_review', 'finance')).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['ApprovalStepApproved', 'ApprovalGranted', 'ChangeStockRequested']);
      expect(events[2].data).toEqual({ approvalId: 'ap-c', orderId: 'o-1', reservationId: 'chg-ap-c', channel: 'tmall', lines: [{ lineId: 'L2', sku: 'CUP', quantity: 2 }], requestedAt: T });
    });
  });

  it("the change's reservation keeps the order's shop (a shop-limited user sees it in inventory); the published request does not carry it", () => {
    const withShop: ApprovalCommand = { ...request(), data: { ...(request().data as object), shopId: 'tmall-tea' } } as ApprovalCommand;
    const h = run(withShop, approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'));
    expect(approvalRelayRoute(recorded(h[0]))?.data).not.toHaveProperty('shopId');
    const events = approvalDecider.decide(approve('finance_review', 'finance'), spec.given(h).state);
    const stock = events.find((e) => e.type === 'ChangeStockRequested')!;
    expect(stock.data).toMatchObject({ reservationId: 'chg-ap-c', shopId: 'tmall-tea' });
    expect(approvalRelayRoute(recorded(stock))).toMatchObject({ topic: Topics.inventoryCommands, type: 'ReserveStock', data: { orderId: 'chg-ap-c', channel: 'tmall', shopId: 'tmall-tea' } });
  });

  it('finance is skipped when the price does not change; a change adding nothing is approved at once', () => {
    const moved = computeChange(order, { shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路' } });
    const h = run(request(moved), approve('cs_review', 'customer_service'));
    spec.given(h).when(approve('warehouse_review', 'warehouse')).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['ApprovalStepApproved', 'ApprovalStepSkipped', 'ApprovalGranted', 'ChangeApproved']);
    });
  });

  it('a new address is published masked; the clear one stays in the request and goes to order-intake only (ChangeApplyRequested -> ApplyOrderChange)', () => {
    const input = {
      shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路', detail: '88号', recipient: '韩梅梅', phone: '13900001111' },
      shippingMethod: 'express',
      invoice: { type: 'personal' as const, title: '韩梅梅' },
    };
    const diff = computeChange(order, input);
    expect(diff.shippingAddress?.after).toEqual({ province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山******', recipientMasked: '韩**', phoneMasked: '139****1111' });
    expect(diff.shippingMethod).toEqual({ after: 'express' });
    expect(diff.invoice).toEqual({ after: { type: 'personal', titleMasked: '韩**' } });
    expect(JSON.stringify(diff)).not.toMatch(/中山西路|13900001111|韩梅梅/);
    const clear = changePrivateOf(input);
    expect(clear.shippingAddress).toEqual({ province: '浙江省', city: '宁波市', district: '海曙区', street: '中山西路', detail: '88号', recipient: '韩梅梅', phone: '13900001111' });
    const base = request(diff);
    const withClear: ApprovalCommand = base.type === 'RequestApproval' ? { ...base, data: { ...base.data, changePrivate: clear } } : base;
    const h = run(withClear, approve('cs_review', 'customer_service'));
    const requested = h[0];
    expect(requested.type === 'ApprovalRequested' && requested.data.changePrivate).toEqual(clear);
    // Published without the clear part.
    expect(JSON.stringify(approvalRelayRoute(recorded(requested))?.data)).not.toMatch(/中山西路|13900001111|韩梅梅/);
    spec.given(h).when(approve('warehouse_review', 'warehouse')).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['ApprovalStepApproved', 'ApprovalStepSkipped', 'ApprovalGranted', 'ChangeApproved', 'ChangeApplyRequested']);
      expect(events[3].data).toMatchObject({ appliedBy: 'command' });
      expect(JSON.stringify(approvalRelayRoute(recorded(events[3]))?.data)).not.toMatch(/中山西路|13900001111|韩梅梅/);
      const command = approvalRelayRoute(recorded(events[4]));
      expect(command).toMatchObject({ topic: Topics.orderCommands, key: 'o-1', type: 'ApplyOrderChange', data: { orderId: 'o-1', changeRequestId: 'ap-c', shippingAddress: clear.shippingAddress, shippingMethod: 'express', invoice: input.invoice } });
    });
    // The street is required (the portal's older `streetMasked` is taken as the street).
    expect(() => computeChange(order, { shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区' } })).toThrow(expect.objectContaining({ details: { field: 'shippingAddress.street', reason: expect.any(String) } }));
    expect(changePrivateOf({ shippingAddress: { province: '浙江省', city: '宁波市', district: '海曙区', streetMasked: '中山西路' } }).shippingAddress?.street).toBe('中山西路');
  });

  it("refuses the masked text an order view shows as the new street, detail or recipient (sent back, it replaced the real street with asterisks), naming the field", () => {
    const at = (over: object) => () => changePrivateOf({ shippingAddress: { province: '浙江省', city: '杭州市', district: '拱墅区', street: '文三路', ...over } });
    for (const [over, field] of [
      [{ street: '文三******' }, 'shippingAddress.street'],
      [{ street: undefined, streetMasked: '文三＊＊＊＊' }, 'shippingAddress.street'],
      [{ detail: '1**' }, 'shippingAddress.detail'],
      [{ recipient: '王*' }, 'shippingAddress.recipient'],
    ] as const) {
      expect(at(over), field).toThrow(expect.objectContaining({ details: expect.objectContaining({ field }) }));
    }
    expect(at({ detail: '1号楼2单元', recipient: '王小明' })().shippingAddress).toMatchObject({ street: '文三路', detail: '1号楼2单元', recipient: '王小明' });
  });

  it('stock reserved -> ChangeApproved with the allocations; no stock -> refused whole, naming what is missing; a repeat decides nothing', () => {
    const h = run(request(), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'));
    const allocations = [{ lineId: 'L2', sku: 'CUP', warehouseId: 'WH', quantity: 2 }];
    spec.given(h).when({ type: 'RecordChangeStock', data: { reserved: true, allocations, now: T } }).thenEvents((events) => {
      expect(events).toEqual([{ type: 'ChangeApproved', data: { approvalId: 'ap-c', orderId: 'o-1', changeRequestId: 'ap-c', diff: computeChange(order, { addLines: [cup] }), reservationId: 'chg-ap-c', allocations, approvedAt: T } }]);
    });
    spec.given(h).when({ type: 'RecordChangeStock', data: { reserved: false, missing: [{ sku: 'CUP', requested: 2, available: 0 }], now: T } }).thenEvents((events) => {
      expect(events[0]).toMatchObject({ type: 'ChangeRefused', data: { code: 'CHANGE_NO_STOCK', missing: [{ sku: 'CUP', requested: 2, available: 0 }] } });
    });
    const done = run(request(), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'), { type: 'RecordChangeStock', data: { reserved: true, allocations, now: T } });
    spec.given(done).when({ type: 'RecordChangeStock', data: { reserved: true, allocations, now: T } }).then([]);
    spec.given(done).when({ type: 'RecordChangeRefusedByOrder', data: { reason: 'packed meanwhile', now: T } }).thenEvents((events) => {
      expect(events.map((e) => e.type)).toEqual(['ChangeRefused', 'ChangeStockReleaseRequested']);
    });
  });

  it('applied by the order, a change gives back the units of removed lines and lowered quantities once (inventory ReleaseStockLines)', () => {
    const tray = { lineId: 'L3', sku: 'TRAY', title: '茶盘', quantity: 1, unitPrice: 15000, lineDiscount: 0 };
    const two = { ...order, lines: [...order.lines, tray] };
    const shrink = computeChange(two, { removeLineIds: ['L3'], quantities: [{ lineId: 'L1', quantity: 1 }] });
    const granted = run(request(shrink), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'));
    expect(granted.map((e) => e.type)).toContain('ChangeApproved');
    spec.given(granted).when({ type: 'RecordChangeApplied', data: { now: T } }).then([
      {
        type: 'ChangeStockLinesReleaseRequested',
        data: { approvalId: 'ap-c', orderId: 'o-1', lines: [{ lineId: 'L3', sku: 'TRAY', quantity: 1 }, { lineId: 'L1', sku: 'TEA', quantity: 1 }], reason: 'order changed', requestedAt: T },
      },
    ]);
    const released = run(request(shrink), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'), { type: 'RecordChangeApplied', data: { now: T } });
    spec.given(released).when({ type: 'RecordChangeApplied', data: { now: T } }).then([]);
    // A change that only adds gives nothing back; a change not approved yet is not applied.
    const adding = run(request(), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'), { type: 'RecordChangeStock', data: { reserved: true, allocations: [], now: T } });
    spec.given(adding).when({ type: 'RecordChangeApplied', data: { now: T } }).then([]);
    spec.given(run(request(shrink))).when({ type: 'RecordChangeApplied', data: { now: T } }).then([]);
  });

  it('units an earlier change added are released from that change\'s reservation (latest first), the rest from the order\'s own, partial quantities included', () => {
    // L1: 2 units in the order's reservation, +1 by change A (chg-A, `L1+`), +2 by change B (chg-B); line L2 added by change A.
    const holdings: ChangeHolding[] = [
      { reservationId: 'chg-A', lineId: 'L1+', orderLineId: 'L1', sku: 'TEA', quantity: 1 },
      { reservationId: 'chg-A', lineId: 'L2', orderLineId: 'L2', sku: 'CUP', quantity: 2 },
      { reservationId: 'chg-B', lineId: 'L1+', orderLineId: 'L1', sku: 'TEA', quantity: 2 },
    ];
    // L1 from 5 down to 1 (4 units: 2 from chg-B, 1 from chg-A, 1 from the order), L2 removed (2 from chg-A).
    const plan = planChangeRelease([{ lineId: 'L1', sku: 'TEA', quantity: 4 }, { lineId: 'L2', sku: 'CUP', quantity: 2 }], holdings);
    expect(plan).toEqual([
      { lines: [{ lineId: 'L1', sku: 'TEA', quantity: 1 }] },
      { reservationId: 'chg-B', lines: [{ lineId: 'L1+', sku: 'TEA', quantity: 2 }] },
      { reservationId: 'chg-A', lines: [{ lineId: 'L1+', sku: 'TEA', quantity: 1 }, { lineId: 'L2', sku: 'CUP', quantity: 2 }] },
    ]);
    expect(nextHoldings(holdings, plan, {})).toEqual([]);
    // A partial release keeps the rest held where it was; the change's own allocations are added (summed over warehouses).
    const partial = planChangeRelease([{ lineId: 'L1', sku: 'TEA', quantity: 1 }], holdings);
    expect(partial).toEqual([{ reservationId: 'chg-B', lines: [{ lineId: 'L1+', sku: 'TEA', quantity: 1 }] }]);
    expect(
      nextHoldings(holdings, partial, { reservationId: 'chg-C', allocations: [{ lineId: 'L4', sku: 'TRAY', quantity: 1 }, { lineId: 'L4', sku: 'TRAY', quantity: 2 }] }),
    ).toEqual([
      holdings[0],
      holdings[1],
      { ...holdings[2], quantity: 1 },
      { reservationId: 'chg-C', lineId: 'L4', orderLineId: 'L4', sku: 'TRAY', quantity: 3 },
    ]);
    // Nothing held by changes: all from the order's own reservation.
    expect(planChangeRelease([{ lineId: 'L1', sku: 'TEA', quantity: 1 }], [])).toEqual([{ lines: [{ lineId: 'L1', sku: 'TEA', quantity: 1 }] }]);
  });

  it('applied by the order, a change removing units an earlier change added asks each reservation holding them (ReleaseStockLines per reservation)', () => {
    const tray = { lineId: 'L3', sku: 'TRAY', title: '茶盘', quantity: 1, unitPrice: 15000, lineDiscount: 0 };
    const two = { ...order, lines: [{ ...order.lines[0], quantity: 3 }, tray] };
    const shrink = computeChange(two, { removeLineIds: ['L3'], quantities: [{ lineId: 'L1', quantity: 1 }] });
    const granted = run(request(shrink), approve('cs_review', 'customer_service'), approve('warehouse_review', 'warehouse'), approve('finance_review', 'finance'));
    const holdings: ChangeHolding[] = [
      { reservationId: 'chg-A', lineId: 'L3', orderLineId: 'L3', sku: 'TRAY', quantity: 1 },
      { reservationId: 'chg-A', lineId: 'L1+', orderLineId: 'L1', sku: 'TEA', quantity: 1 },
    ];
    spec.given(granted).when({ type: 'RecordChangeApplied', data: { now: T, holdings } }).then([
      { type: 'ChangeStockLinesReleaseRequested', data: { approvalId: 'ap-c', orderId: 'o-1', lines: [{ lineId: 'L1', sku: 'TEA', quantity: 1 }], reason: 'order changed', requestedAt: T } },
      {
        type: 'ChangeStockLinesReleaseRequested',
        data: { approvalId: 'ap-c', orderId: 'o-1', reservationId: 'chg-A', lines: [{ lineId: 'L3', sku: 'TRAY', quantity: 1 }, { lineId: 'L1+', sku: 'TEA', quantity: 1 }], reason: 'order changed', requestedAt: T },
      },
    ]);
  });

  it('a manager override of the freeze is recorded as an event with the request', () => {
    spec.given([]).when(request(undefined, { shipmentIds: ['SHP-1'], by: 'u-gm', role: 'general_manager', reason: '客户加急' })).thenEvents((events) => {
      expect(events[1]).toEqual({ type: 'ApprovalFreezeOverridden', data: { approvalId: 'ap-c', orderId: 'o-1', shipmentIds: ['SHP-1'], by: 'u-gm', role: 'general_manager', reason: '客户加急', overriddenAt: T } });
    });
  });
});
