import { describe, expect, it } from 'vitest';
import { shipmentsOf } from './shipments.projection';

const T = '2026-03-02T01:00:00.000Z';
const ev = (type: string, data: Record<string, unknown>, occurredAt = T) => ({ type, occurredAt, data: { orderId: 'o-1', ...data } });

describe('shipments on the order (from fulfillment events)', () => {
  it('shows each parcel with carrier, waybill, tracking number and the last carrier state', () => {
    const shipments = shipmentsOf([
      ev('OrderPlaced', {}),
      ev('ShipmentPacked', { shipmentId: 's-1', waybillNo: 'SF1', warehouseId: 'WH-HZ', carrier: 'SF', packedAt: T }),
      ev('ShipmentPacked', { shipmentId: 's-2', waybillNo: 'SIM2', warehouseId: 'WH-SH', carrier: 'SIM', packedAt: T }),
      ev('ShipmentShipped', { shipmentId: 's-1', carrier: 'SF', trackingNumber: 'SF1', warehouseId: 'WH-HZ', shippedAt: '2026-03-02T02:00:00.000Z', allShipped: false }),
      ev('ShipmentTrackingUpdated', { shipmentId: 's-1', carrier: 'SF', trackingNumber: 'SF1', state: 'in_transit', description: '已到达杭州转运中心', at: '2026-03-02T05:00:00.000Z' }),
    ]);
    expect(shipments).toEqual([
      {
        shipmentId: 's-1',
        warehouseId: 'WH-HZ',
        status: 'in_transit',
        carrier: 'SF',
        waybillNo: 'SF1',
        trackingNumber: 'SF1',
        lastCarrierState: 'in_transit',
        lastCarrierStateAt: '2026-03-02T05:00:00.000Z',
        lastCarrierDescription: '已到达杭州转运中心',
        packedAt: T,
        shippedAt: '2026-03-02T02:00:00.000Z',
        deliveredAt: null,
      },
      expect.objectContaining({ shipmentId: 's-2', warehouseId: 'WH-SH', status: 'packed', carrier: 'SIM', waybillNo: 'SIM2', trackingNumber: null }),
    ]);
  });
  it('marks delivered, carrier problems, intercepts and stops', () => {
    const s = shipmentsOf([
      ev('ShipmentPacked', { shipmentId: 's-1', waybillNo: 'W1' }),
      ev('ShipmentPacked', { shipmentId: 's-2', waybillNo: 'W2' }),
      ev('ShipmentPacked', { shipmentId: 's-3', waybillNo: 'W3' }),
      ev('ShipmentShipped', { shipmentId: 's-1', carrier: 'SIM', trackingNumber: 'W1' }),
      ev('ShipmentDelivered', { shipmentId: 's-1', deliveredAt: '2026-03-03T00:00:00.000Z' }),
      ev('ShipmentShipped', { shipmentId: 's-2', carrier: 'SIM', trackingNumber: 'W2' }),
      ev('ShipmentCarrierException', { shipmentId: 's-2', carrier: 'SIM', trackingNumber: 'W2', description: '地址不详', at: T }),
      ev('ShipmentInterceptRequested', { shipmentId: 's-3', reason: 'x', warehouseId: 'WH', requestedAt: T }),
      ev('FulfillmentStopped', { shipmentId: 's-3', reason: 'x', wasPacked: true }),
      ev('FulfillmentStopped', { shipmentId: 's-9', reason: 'x', wasPacked: false }),
    ]);
    expect(s.map((x) => [x.shipmentId, x.status, x.lastCarrierDescription, x.deliveredAt])).toEqual([
      ['s-1', 'delivered', null, '2026-03-03T00:00:00.000Z'],
      ['s-2', 'carrier_exception', '地址不详', null],
      ['s-3', 'stopped', null, null],
    ]);
  });
});
