import { deciderSpec } from '@flowline/testing';
import { describe, expect, it } from 'vitest';
import { freezeOf, orderFulfillmentDecider, type FulfillmentCommand, type FulfillmentEvent } from './order-fulfillment.decider';

const spec = deciderSpec(orderFulfillmentDecider);
const O = 'o-1';
const T = '2026-01-05T08:00:00.000Z';
const S1 = `SHP-${O}-1`;
const S2 = `SHP-${O}-2`;
const LINES_HZ = [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 2 }];
const LINES_SH = [{ lineId: 'L2', sku: 'CUP-01', quantity: 1 }];

const start = (lines = [{ ...LINES_HZ[0], warehouseId: 'WH-HZ' }]): FulfillmentCommand => ({ type: 'StartFulfillment', data: { orderId: O, lines, priority: 'normal', requiresQc: false }, at: T });
const started = (two = false): FulfillmentEvent => ({
  type: 'FulfillmentStarted',
  data: {
    orderId: O,
    priority: 'normal',
    requiresQc: false,
    startedAt: T,
    shipments: [{ shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ }, ...(two ? [{ shipmentId: S2, warehouseId: 'WH-SH', lines: LINES_SH }] : [])],
  },
});
const picking = (id = S1): FulfillmentEvent => ({ type: 'ShipmentPickingStarted', data: { orderId: O, shipmentId: id, at: T } });
const scanned = (sku = 'TEA-LJ', quantity = 2, id = S1): FulfillmentEvent => ({ type: 'ShipmentItemScanned', data: { orderId: O, shipmentId: id, sku, quantity, at: T } });
const packed = (id = S1, lines = LINES_HZ, wh = 'WH-HZ'): FulfillmentEvent => ({ type: 'ShipmentPacked', data: { orderId: O, shipmentId: id, waybillNo: `WB-${id}`, warehouseId: wh, lines, packedAt: T, carrier: 'SIM' } });
const shipped = (id = S1, allShipped = true, lines = LINES_HZ, wh = 'WH-HZ'): FulfillmentEvent => ({
  type: 'ShipmentShipped',
  data: { orderId: O, shipmentId: id, carrier: 'SIM', trackingNumber: `WB-${id}`, warehouseId: wh, lines, shippedAt: T, allShipped },
});
const stopReq: FulfillmentEvent = { type: 'FulfillmentStopRequested', data: { orderId: O, reason: '买家取消', at: T } };
const stop: FulfillmentCommand = { type: 'StopFulfillment', data: { orderId: O, reason: '买家取消' }, at: T };
const pack = (id = S1): FulfillmentCommand => ({ type: 'PackShipment', shipmentId: id, waybillNo: `WB-${id}`, carrier: 'SIM', at: T });
const carrier = (state: 'picked_up' | 'in_transit' | 'delivered' | 'problem', id = S1, description: string = state): FulfillmentCommand => ({ type: 'RecordCarrierUpdate', shipmentId: id, state, description, at: T });
const tracking = (state: 'picked_up' | 'in_transit' | 'delivered', id = S1): FulfillmentEvent => ({
  type: 'ShipmentTrackingUpdated',
  data: { orderId: O, shipmentId: id, carrier: 'SIM', trackingNumber: `WB-${id}`, state, description: state, at: T },
});
const packedOne = [started(), picking(), scanned(), packed()];

describe('order fulfillment: start', () => {
  it('creates one parcel per warehouse allocation, ids stable by warehouse', () => {
    spec
      .given([])
      .when(start([{ lineId: 'L2', sku: 'CUP-01', quantity: 1, warehouseId: 'WH-SH' }, { lineId: 'L1', sku: 'TEA-LJ', quantity: 2, warehouseId: 'WH-HZ' }]))
      .then([started(true)]);
  });
  it('records the carrier the rules chose, with rule id and version', () => {
    const choice = { carrier: 'SF', ruleId: 'high-value-sf', ruleSetVersion: '2026.12.1' };
    const s = spec.given([]).when({ ...start(), carrierChoice: choice } as FulfillmentCommand).then([{ type: 'FulfillmentStarted', data: { ...(started().data as object), carrierChoice: choice } } as FulfillmentEvent]);
    expect(s.status === 'open' && s.carrierChoice).toEqual(choice);
  });
  it("keeps the order's shop (shop-limited staff read their shops' parcels only); none before fulfillment kept it", () => {
    const withShop = { ...start(), data: { ...(start() as Extract<FulfillmentCommand, { type: 'StartFulfillment' }>).data, shopId: 'tmall-flagship' } } as FulfillmentCommand;
    const s = spec.given([]).when(withShop).then([{ type: 'FulfillmentStarted', data: { ...(started().data as object), shopId: 'tmall-flagship' } } as FulfillmentEvent]);
    expect(s.status === 'open' && s.shopId).toBe('tmall-flagship');
    const old = spec.given([started()]).when(start()).then([]);
    expect(old.status === 'open' && old.shopId).toBeNull();
  });
    it('ignores a redelivered StartFulfillment', () => {
    spec.given([started()]).when(start()).then([]);
  });
  it('creates nothing when the stop arrived first', () => {
    spec.given([stopReq]).when(start()).then([]);
  });
});

describe('order fulfillment: scan to pack', () => {
  it('refuses a wrong SKU naming what the parcel expects', () => {
    spec.given([started(), picking()]).when({ type: 'ScanItem', shipmentId: S1, sku: 'CUP-01', quantity: 1, at: T }).thenThrows({ code: 'SCAN_WRONG_SKU', details: { sku: 'CUP-01', expected: ['TEA-LJ'] } });
  });
  it('refuses more units than the parcel holds', () => {
    spec.given([started(), picking(), scanned('TEA-LJ', 1)]).when({ type: 'ScanItem', shipmentId: S1, sku: 'TEA-LJ', quantity: 2, at: T }).thenThrows({ code: 'SCAN_QUANTITY_EXCEEDED', details: { required: 2, scanned: 1 } });
  });
  it('a first scan starts picking', () => {
    spec.given([started()]).when({ type: 'ScanItem', shipmentId: S1, sku: 'TEA-LJ', quantity: 1, at: T }).then([picking(), scanned('TEA-LJ', 1)]);
  });
  it('refuses to pack before every unit is scanned', () => {
    spec.given([started(), picking(), scanned('TEA-LJ', 1)]).when(pack()).thenThrows({ code: 'PACK_INCOMPLETE', details: { missing: [{ sku: 'TEA-LJ', required: 2, scanned: 1 }] } });
  });
  it('packs a complete parcel with its waybill', () => {
    spec.given([started(), picking(), scanned()]).when(pack()).then([packed()]);
  });
});

describe('order fulfillment: ship and deliver', () => {
  it('hands a packed parcel to the carrier with the real handover time', () => {
    spec.given(packedOne).when({ type: 'ShipShipment', shipmentId: S1, at: T }).then([shipped()]);
  });
  it('the first of two parcels is not the order shipped; the second is', () => {
    const first = [started(true), picking(), scanned(), packed(), picking(S2), scanned('CUP-01', 1, S2), packed(S2, LINES_SH, 'WH-SH')];
    spec.given(first).when({ type: 'ShipShipment', shipmentId: S1, at: T }).then([shipped(S1, false)]);
    spec.given([...first, shipped(S1, false)]).when({ type: 'ShipShipment', shipmentId: S2, at: T }).then([shipped(S2, true, LINES_SH, 'WH-SH')]);
  });
  it('delivered when all parcels are', () => {
    const both = [started(true), picking(), scanned(), packed(), picking(S2), scanned('CUP-01', 1, S2), packed(S2, LINES_SH, 'WH-SH'), shipped(S1, false), shipped(S2, true, LINES_SH, 'WH-SH')];
    spec.given(both).when(carrier('delivered')).then([tracking('delivered'), { type: 'ShipmentDelivered', data: { orderId: O, shipmentId: S1, deliveredAt: T, allDelivered: false } }]);
    spec.given([...both, tracking('delivered')]).when(carrier('delivered', S2)).thenEvents((e) => expect(e[1]).toMatchObject({ type: 'ShipmentDelivered', data: { shipmentId: S2, allDelivered: true } }));
  });
  it('a duplicate or older carrier state never moves the parcel back', () => {
    const inTransit = [...packedOne, shipped(), tracking('in_transit')];
    spec.given(inTransit).when(carrier('in_transit')).then([]);
    spec.given(inTransit).when(carrier('picked_up')).then([]);
    spec.given([...inTransit, tracking('delivered')]).when(carrier('in_transit')).then([]);
  });
  it('a carrier problem becomes a carrier exception with the carrier words, once', () => {
    const s = spec.given([...packedOne, shipped()]).when(carrier('problem', S1, '地址不详')).then([
      { type: 'ShipmentCarrierException', data: { orderId: O, shipmentId: S1, carrier: 'SIM', trackingNumber: `WB-${S1}`, description: '地址不详', at: T } },
    ]);
    expect(s.status === 'open' && s.shipments[0].status).toBe('carrier_exception');
  });
});

describe('order fulfillment: stop and intercept', () => {
  it('a stop before packing stops the parcel (withdrawn from the pick list); packing is refused afterwards', () => {
    const s = spec.given([started(), picking()]).when(stop).then([stopReq, { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } }]);
    expect(s.status === 'open' && s.shipments[0].status).toBe('stopped');
    spec.given([started(), picking(), scanned(), stopReq, { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1 } }]).when(pack()).thenThrows({ code: 'SHIPMENT_STOPPED' });
  });
  it('a stop after packing raises an intercept; shipping waits for the warehouse', () => {
    spec.given(packedOne).when(stop).then([stopReq, { type: 'ShipmentInterceptRequested', data: { orderId: O, shipmentId: S1, reason: '买家取消', warehouseId: 'WH-HZ', requestedAt: T } }]);
    const intercept: FulfillmentEvent = { type: 'ShipmentInterceptRequested', data: { orderId: O, shipmentId: S1, reason: '买家取消', warehouseId: 'WH-HZ', requestedAt: T } };
    spec.given([...packedOne, stopReq, intercept]).when({ type: 'ShipShipment', shipmentId: S1, at: T }).thenThrows({ code: 'INTERCEPT_PENDING' });
    spec
      .given([...packedOne, stopReq, intercept])
      .when({ type: 'ConfirmIntercept', shipmentId: S1, at: T })
      .then([{ type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: true, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } }]);
    spec.given([...packedOne, stopReq, intercept]).when({ type: 'RejectIntercept', shipmentId: S1, at: T }).then([{ type: 'ShipmentShipped', data: { ...shipped().data, carrier: 'SIM', afterStop: true } as never }]);
  });
  it('a stop after handover changes nothing; a second stop is a no-op', () => {
    spec.given([...packedOne, shipped()]).when(stop).then([stopReq]);
    spec.given([...packedOne, stopReq]).when(stop).then([]);
  });
});

describe('order fulfillment: hold (挂起 / 异常 after release)', () => {
  const holdCmd: FulfillmentCommand = { type: 'HoldFulfillment', data: { orderId: O, reason: 'on hold: 买家要求暂缓发货' }, at: T };
  const resumeCmd: FulfillmentCommand = { type: 'ResumeFulfillment', data: { orderId: O, reason: 'hold released: 买家确认' }, at: T };
  const held: FulfillmentEvent = { type: 'FulfillmentHeld', data: { orderId: O, reason: 'on hold: 买家要求暂缓发货', at: T } };
  const resumed: FulfillmentEvent = { type: 'FulfillmentResumed', data: { orderId: O, reason: 'hold released: 买家确认', at: T } };

  it('a held order is not picked, scanned, packed or shipped; the refusal names the hold', () => {
    const s = spec.given([started()]).when(holdCmd).then([held]);
    expect(s.status === 'open' && s.hold).toEqual({ reason: 'on hold: 买家要求暂缓发货', at: T });
    spec.given([started(), held]).when({ type: 'StartPicking', shipmentId: S1, at: T }).thenThrows({ code: 'FULFILLMENT_ON_HOLD', details: { reason: 'on hold: 买家要求暂缓发货' } });
    spec.given([started(), held]).when({ type: 'ScanItem', shipmentId: S1, sku: 'TEA-LJ', quantity: 1, at: T }).thenThrows({ code: 'FULFILLMENT_ON_HOLD' });
    spec.given([started(), picking(), scanned(), held]).when(pack()).thenThrows({ code: 'FULFILLMENT_ON_HOLD' });
    spec.given([...packedOne, held]).when({ type: 'ShipShipment', shipmentId: S1, at: T }).thenThrows({ code: 'FULFILLMENT_ON_HOLD' });
  });
  it('resumed, the parcel goes on where it stopped; a repeated hold or a resume of an order not held changes nothing', () => {
    const s = spec.given([started(), picking(), scanned(), held]).when(resumeCmd).then([resumed]);
    expect(s.status === 'open' && s.hold).toBeNull();
    spec.given([started(), picking(), scanned(), held, resumed]).when(pack()).then([packed()]);
    spec.given([started(), held]).when(holdCmd).then([]);
    spec.given([started()]).when(resumeCmd).then([]);
    spec.given([]).when(resumeCmd).then([]);
  });
  it('a hold does not stop what is already done or decided elsewhere: a repeated ship of a parcel that left, an intercept, a stop', () => {
    spec.given([...packedOne, shipped(), held]).when({ type: 'ShipShipment', shipmentId: S1, at: T }).then([]);
    spec.given([started(), held]).when(stop).then([stopReq, { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } }]);
    const intercept: FulfillmentEvent = { type: 'ShipmentInterceptRequested', data: { orderId: O, shipmentId: S1, reason: '买家取消', warehouseId: 'WH-HZ', requestedAt: T } };
    spec.given([...packedOne, held, stopReq, intercept]).when({ type: 'ConfirmIntercept', shipmentId: S1, at: T }).then([{ type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: true, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } }]);
  });
  it('a hold that arrives before the parcels (or an order packed again after a change) still holds them', () => {
    const s = spec.given([held]).when(start()).then([started()]);
    expect(s.status === 'open' && s.hold?.reason).toBe('on hold: 买家要求暂缓发货');
    spec.given([held, started()]).when({ type: 'StartPicking', shipmentId: S1, at: T }).thenThrows({ code: 'FULFILLMENT_ON_HOLD' });
  });
});

describe('freeze after packing', () => {
  it('is off before packing, on once packed, lifted by a manager override, on again at the next packing', () => {
    const f = (events: FulfillmentEvent[]) => freezeOf(events.reduce(orderFulfillmentDecider.evolve, orderFulfillmentDecider.initialState())).frozen;
    expect(f([started(), picking()])).toBe(false);
    expect(f(packedOne)).toBe(true);
    spec.given([started()]).when({ type: 'OverrideFreeze', actor: { id: 'gm', role: 'general_manager' }, reason: 'x', at: T }).thenThrows({ code: 'ORDER_NOT_FROZEN' });
    const overridden: FulfillmentEvent = { type: 'FreezeOverridden', data: { orderId: O, actor: { id: 'gm', role: 'general_manager' }, reason: '改地址', at: T } };
    spec.given(packedOne).when({ type: 'OverrideFreeze', actor: { id: 'gm', role: 'general_manager' }, reason: '改地址', at: T }).then([overridden]);
    expect(f([...packedOne, overridden])).toBe(false);
  });
});

describe('returns (RMA)', () => {
  const delivered = [...packedOne, shipped(), tracking('delivered'), { type: 'ShipmentDelivered', data: { orderId: O, shipmentId: S1, deliveredAt: T, allDelivered: true } } as FulfillmentEvent];
  const requested: FulfillmentEvent = { type: 'ReturnRequested', data: { orderId: O, shipmentId: S1, rmaId: 'RMA-1', warehouseId: 'WH-HZ', lines: [{ sku: 'TEA-LJ', quantity: 2 }], reason: '七天无理由', at: T } };
  it('opens a return for a delivered parcel, not for one still in the warehouse, not more than shipped', () => {
    spec.given(delivered).when({ type: 'RequestReturn', shipmentId: S1, rmaId: 'RMA-1', lines: [{ sku: 'TEA-LJ', quantity: 2 }], reason: '七天无理由', at: T }).then([requested]);
    spec.given(packedOne).when({ type: 'RequestReturn', shipmentId: S1, rmaId: 'RMA-1', lines: [{ sku: 'TEA-LJ', quantity: 1 }], reason: 'x', at: T }).thenThrows({ code: 'RETURN_NOT_ALLOWED' });
    spec.given([...delivered, requested]).when({ type: 'RequestReturn', shipmentId: S1, rmaId: 'RMA-2', lines: [{ sku: 'TEA-LJ', quantity: 1 }], reason: 'x', at: T }).thenThrows({ code: 'RETURN_LINE_INVALID', details: { returnable: 0 } });
    spec.given([...delivered, requested]).when({ type: 'RequestReturn', shipmentId: S1, rmaId: 'RMA-1', lines: [{ sku: 'TEA-LJ', quantity: 2 }], reason: '七天无理由', at: T }).then([]);
  });
  it('receives what came back with its condition; more than expected is refused; a repeat is a no-op', () => {
    const received: FulfillmentEvent = { type: 'ReturnReceived', data: { orderId: O, shipmentId: S1, rmaId: 'RMA-1', warehouseId: 'WH-HZ', lines: [{ sku: 'TEA-LJ', quantity: 1, condition: 'resellable' }, { sku: 'TEA-LJ', quantity: 1, condition: 'damaged' }], at: T } };
    const s = spec.given([...delivered, requested]).when({ type: 'ReceiveReturn', rmaId: 'RMA-1', lines: received.data.lines as never, at: T }).then([received]);
    expect(s.status === 'open' && s.shipments[0].status).toBe('returned');
    spec.given([...delivered, requested]).when({ type: 'ReceiveReturn', rmaId: 'RMA-1', lines: [{ sku: 'TEA-LJ', quantity: 3, condition: 'resellable' }], at: T }).thenThrows({ code: 'RETURN_QUANTITY_EXCEEDED' });
    spec.given([...delivered, requested, received]).when({ type: 'ReceiveReturn', rmaId: 'RMA-1', lines: [{ sku: 'TEA-LJ', quantity: 1, condition: 'resellable' }], at: T }).then([]);
  });
});

describe('packed again after a stop (an approved change re-opened the order)', () => {
  const stopped: FulfillmentEvent = { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } };
  const restartLines = [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 3, warehouseId: 'WH-HZ' }];
  const again = (): FulfillmentCommand => ({ type: 'StartFulfillment', data: { orderId: O, lines: restartLines, priority: 'normal', requiresQc: false }, at: T });
  it('a start after every parcel was stopped creates new parcels (new ids), the stopped ones stay', () => {
    const s = spec.given([started(), picking(), stopReq, stopped]).when(again()).then([
      { type: 'FulfillmentStarted', data: { orderId: O, priority: 'normal', requiresQc: false, startedAt: T, shipments: [{ shipmentId: `SHP-${O}-r2-1`, warehouseId: 'WH-HZ', lines: [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 3 }] }], generation: 2 } },
    ]);
    expect(s.status === 'open' && [s.stop, s.shipments.map((x) => `${x.shipmentId}:${x.status}`)]).toEqual([null, [`${S1}:stopped`, `SHP-${O}-r2-1:created`]]);
  });
  it('a start while a packed parcel awaits its intercept waits; confirming the intercept creates the new parcels', () => {
    const intercept: FulfillmentEvent = { type: 'ShipmentInterceptRequested', data: { orderId: O, shipmentId: S1, reason: '买家取消', warehouseId: 'WH-HZ', requestedAt: T } };
    const pending: FulfillmentEvent = { type: 'FulfillmentRestartPending', data: { orderId: O, lines: restartLines, priority: 'normal', requiresQc: false, at: T } };
    spec.given([...packedOne, stopReq, intercept]).when(again()).then([pending]);
    spec
      .given([...packedOne, stopReq, intercept, pending])
      .when({ type: 'ConfirmIntercept', shipmentId: S1, at: T })
      .thenEvents((e) => expect(e.map((x) => [x.type, x.type === 'FulfillmentStarted' ? x.data.shipments.map((y) => y.shipmentId) : null])).toEqual([['FulfillmentStopped', null], ['FulfillmentStarted', [`SHP-${O}-r2-1`]]]));
  });
  it('no restart once a parcel left, nor for an order stopped before it started', () => {
    spec.given([...packedOne, shipped(), stopReq]).when(again()).then([]);
    spec.given([stopReq]).when(again()).then([]);
  });
});

describe('made-to-order lines wait for the factory (MES)', () => {
  const mto: FulfillmentCommand = { ...start(), madeToOrderSkus: ['TEA-LJ'] } as FulfillmentCommand;
  const startedMto: FulfillmentEvent = { type: 'FulfillmentStarted', data: { ...(started().data as object), shipments: [{ shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ, awaitingProduction: true }] } } as FulfillmentEvent;
  const progress = (status: 'created' | 'in_production' | 'completed' | 'problem', percent?: number, message?: string): FulfillmentCommand => ({
    type: 'RecordWorkOrderProgress',
    orderId: O,
    workOrderId: 'WO-1',
    status,
    ...(percent !== undefined ? { percent } : {}),
    ...(message ? { message } : {}),
    at: T,
  });
  const progressed = (status: 'created' | 'in_production' | 'completed' | 'problem', percent?: number): FulfillmentEvent => ({
    type: 'WorkOrderProgressed',
    data: { orderId: O, workOrderId: 'WO-1', status, ...(percent !== undefined ? { percent } : {}), at: T },
  });
  it('a parcel with a made-to-order line waits: picking is refused until production completed', () => {
    const s = spec.given([]).when(mto).then([startedMto]);
    expect(s.status === 'open' && s.shipments[0].status).toBe('awaiting_production');
    spec.given([startedMto, progressed('in_production', 40)]).when({ type: 'ScanItem', shipmentId: S1, sku: 'TEA-LJ', quantity: 1, at: T }).thenThrows({ code: 'PRODUCTION_PENDING', details: { workOrders: [{ workOrderId: 'WO-1', status: 'in_production', percent: 40 }] } });
    const done = spec.given([startedMto, progressed('in_production', 40)]).when(progress('completed')).then([progressed('completed')]);
    expect(done.status === 'open' && done.shipments[0].status).toBe('created');
  });
  it('progress never goes back; a repeat is ignored', () => {
    spec.given([startedMto, progressed('in_production', 60)]).when(progress('in_production', 40)).then([]);
    spec.given([startedMto, progressed('in_production', 60)]).when(progress('created')).then([]);
    spec.given([startedMto, progressed('completed')]).when(progress('in_production', 90)).then([]);
    spec.given([startedMto, progressed('in_production', 60)]).when(progress('in_production', 80)).then([progressed('in_production', 80)]);
  });
  it('production completed before the order reached fulfilment: its parcel is pickable at once', () => {
    const s = spec.given([progressed('completed')]).when(mto).thenEvents((e) => expect(e.map((x) => x.type)).toEqual(['FulfillmentStarted']));
    expect(s.status === 'open' && s.shipments[0].status).toBe('created');
  });
  it('a restarted order (stopped, started again) re-checks its made-to-order lines: the new parcel waits unless production completed', () => {
    const stoppedMto: FulfillmentEvent = { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } };
    const waiting = spec.given([startedMto, stopReq, stoppedMto]).when(mto).thenEvents((e) => {
      expect(e).toHaveLength(1);
      expect(e[0].type === 'FulfillmentStarted' && e[0].data.shipments).toEqual([{ shipmentId: `SHP-${O}-r2-1`, warehouseId: 'WH-HZ', lines: LINES_HZ, awaitingProduction: true }]);
    });
    expect(waiting.status === 'open' && waiting.shipments.map((x) => x.status)).toEqual(['stopped', 'awaiting_production']);
    const done = spec.given([startedMto, progressed('completed'), stopReq, stoppedMto]).when(mto).thenEvents((e) => expect(e.map((x) => x.type)).toEqual(['FulfillmentStarted']));
    expect(done.status === 'open' && done.shipments.map((x) => x.status)).toEqual(['stopped', 'created']);
  });
});

describe('order fulfillment: merged parcel (合单) and weights', () => {
  const M = 'MRG-tmall-flagship-1-abc';
  const merge = { parcelId: M, ruleVersion: 'm-1' };
  const weighed = [{ lineId: 'L1', sku: 'TEA-LJ', quantity: 2, warehouseId: 'WH-HZ', weightGrams: 600 }];
  it('the order\'s one parcel records the merged parcel, the merge decision with its rule version, and the weight of its lines', () => {
    const s = spec
      .given([])
      .when({ ...start(weighed), merge } as FulfillmentCommand)
      .then([{ type: 'FulfillmentStarted', data: { orderId: O, priority: 'normal', requiresQc: false, startedAt: T, shipments: [{ shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ, weightGrams: 600, mergeParcelId: M }], merge } }]);
    expect(s.status === 'open' && s.shipments[0]).toMatchObject({ mergeParcelId: M, weightGrams: 600 });
  });
  it('an order over two warehouses cannot join a merged parcel', () => {
    spec
      .given([])
      .when({ ...start([{ ...LINES_HZ[0], warehouseId: 'WH-HZ' }, { ...LINES_SH[0], warehouseId: 'WH-SH' }]), merge } as FulfillmentCommand)
      .thenThrows({ code: 'MERGE_NEEDS_ONE_PARCEL' });
  });
  it('packed with the box: every order of the parcel named on ShipmentPacked, then on shipped and delivered', () => {
    const start1: FulfillmentEvent = { type: 'FulfillmentStarted', data: { ...(started().data as Extract<FulfillmentEvent, { type: 'FulfillmentStarted' }>['data']), shipments: [{ shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ, weightGrams: 600, mergeParcelId: M }] } };
    const packCmd = { ...pack(), merged: { parcelId: M, orderIds: [O, 'o-2'] } } as FulfillmentCommand;
    spec
      .given([start1, picking(), scanned()])
      .when(packCmd)
      .then([{ type: 'ShipmentPacked', data: { orderId: O, shipmentId: S1, waybillNo: `WB-${S1}`, warehouseId: 'WH-HZ', lines: LINES_HZ, packedAt: T, carrier: 'SIM', weightGrams: 600, mergeParcelId: M, mergedOrderIds: [O, 'o-2'] } }]);
    const packedEvent = orderFulfillmentDecider.decide(packCmd, [start1, picking(), scanned()].reduce(orderFulfillmentDecider.evolve, orderFulfillmentDecider.initialState()));
    const given = [start1, picking(), scanned(), ...packedEvent];
    spec.given(given).when({ type: 'ShipShipment', shipmentId: S1, at: T }).thenEvents((es) => expect(es[0].data).toMatchObject({ mergeParcelId: M, mergedOrderIds: [O, 'o-2'], allShipped: true }));
    const afterShip = [...given, ...orderFulfillmentDecider.decide({ type: 'ShipShipment', shipmentId: S1, at: T }, given.reduce(orderFulfillmentDecider.evolve, orderFulfillmentDecider.initialState()))];
    spec.given(afterShip).when(carrier('delivered')).thenEvents((es) => expect(es[1]).toMatchObject({ type: 'ShipmentDelivered', data: { mergeParcelId: M, mergedOrderIds: [O, 'o-2'], allDelivered: true } }));
  });
  it('a stop of one order of the merged parcel before packing stops only its own parcel (withdrawn with its lines)', () => {
    const start1: FulfillmentEvent = { type: 'FulfillmentStarted', data: { ...(started().data as Extract<FulfillmentEvent, { type: 'FulfillmentStarted' }>['data']), shipments: [{ shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ, mergeParcelId: M }] } };
    spec.given([start1, picking()]).when(stop).then([stopReq, { type: 'FulfillmentStopped', data: { orderId: O, reason: '买家取消', wasPacked: false, shipmentId: S1, warehouseId: 'WH-HZ', lines: LINES_HZ } }]);
  });
});
