import { fulfillmentV1 } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import type { MergedParcelView, ShipmentView } from '../../application/fulfillment.service';
import { toShipment } from './fulfillment.grpc.controller';

const parcel = (over: Partial<ShipmentView> = {}): ShipmentView => ({
  shipmentId: 'SHP-1',
  orderId: 'ORD-1',
  warehouseId: 'WH-1',
  status: 'created',
  lines: [{ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2 }],
  scanned: {},
  carrier: null,
  waybillNo: null,
  trackingNumber: null,
  carrierState: null,
  carrierStateAt: null,
  packedAt: null,
  shippedAt: null,
  deliveredAt: null,
  shippedAfterStop: false,
  weightGrams: 520,
  mergeParcelId: null,
  mergedOrderIds: [],
  holdReason: null,
  channelOrderId: null,
  ...over,
});

describe('gRPC Shipment: weight and merged-parcel fields (#12)', () => {
  it("an order's own parcel carries its weight and no merge fields", () => {
    const s = toShipment(parcel());
    expect(s).toMatchObject({ shipmentId: 'SHP-1', status: fulfillmentV1.ShipmentStatus.SHIPMENT_STATUS_PENDING, weightGrams: 520, mergeParcelId: '', mergedOrderIds: [], mergeStatus: '', windowEndsAt: '' });
    expect(s.carrierChoice).toBeUndefined();
    expect(s.lines[0]).toEqual({ lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, warehouseId: 'WH-1', orderId: '' });
  });

  it('a merged parcel (pick-list entry) names each line its order, the window, the members and the box carrier choice', () => {
    const view: MergedParcelView = {
      ...parcel({ shipmentId: 'MRG-1', mergeParcelId: 'MRG-1', mergedOrderIds: ['ORD-1', 'ORD-2'], weightGrams: 900, status: 'packed', carrier: 'ZTO' }),
      lines: [
        { lineId: 'L1', sku: 'TEA-LJ-250', quantity: 2, orderId: 'ORD-1' },
        { lineId: 'L1', sku: 'TEA-SM-100', quantity: 1, orderId: 'ORD-2' },
      ],
      mergeParcelId: 'MRG-1',
      mergeStatus: 'packed',
      windowEndsAt: '2026-12-05T02:00:00.000Z',
      carrierChoice: { carrier: 'ZTO', ruleId: 'heavy-cheapest', ruleSetVersion: '2026.12.1', weightGrams: 900 },
      members: [],
    };
    const s = toShipment(view);
    expect(s).toMatchObject({ shipmentId: 'MRG-1', mergeParcelId: 'MRG-1', mergedOrderIds: ['ORD-1', 'ORD-2'], weightGrams: 900, mergeStatus: 'packed', windowEndsAt: '2026-12-05T02:00:00.000Z' });
    expect(s.lines.map((l) => l.orderId)).toEqual(['ORD-1', 'ORD-2']);
    expect(s.carrierChoice).toEqual({ carrier: 'ZTO', ruleId: 'heavy-cheapest', ruleSetVersion: '2026.12.1', weightGrams: 900, designated: false });
  });
});
