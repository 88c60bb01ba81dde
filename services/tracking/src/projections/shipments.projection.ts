import type { TrackingShipmentView } from '@flowline/contracts';
import type { FulfillmentEvent } from './tracked-event';

/**
 * The parcels of one order as fulfillment reported them (carrier, waybill, tracking number, last
 * carrier state), folded from the fulfillment events on its timeline. A parcel appears once packed
 * (the first event fulfillment publishes about it). Pure; the order of `events` is the timeline's.
 */
export function shipmentsOf(events: readonly { type: string; occurredAt: string; data: unknown }[]): TrackingShipmentView[] {
  const parcels = new Map<string, TrackingShipmentView>();
  const get = (id: string, warehouseId: string | null = null): TrackingShipmentView => {
    let p = parcels.get(id);
    if (!p) {
      p = {
        shipmentId: id,
        warehouseId,
        status: 'packed',
        carrier: null,
        waybillNo: null,
        trackingNumber: null,
        lastCarrierState: null,
        lastCarrierStateAt: null,
        lastCarrierDescription: null,
        packedAt: null,
        shippedAt: null,
        deliveredAt: null,
      };
      parcels.set(id, p);
    }
    return p;
  };
  for (const raw of events) {
    const e = raw as unknown as FulfillmentEvent;
    const data = e.data as { shipmentId?: string } | null;
    if (!data || typeof data.shipmentId !== 'string') continue;
    switch (e.type) {
      case 'ShipmentPacked': {
        const p = get(e.data.shipmentId, e.data.warehouseId ?? null);
        Object.assign(p, { status: 'packed', waybillNo: e.data.waybillNo, carrier: e.data.carrier ?? p.carrier, packedAt: e.data.packedAt ?? e.occurredAt, warehouseId: e.data.warehouseId ?? p.warehouseId });
        break;
      }
      case 'ShipmentShipped':
        Object.assign(get(e.data.shipmentId, e.data.warehouseId ?? null), {
          status: e.data.afterStop ? 'shipped_after_stop' : 'shipped',
          carrier: e.data.carrier,
          trackingNumber: e.data.trackingNumber,
          shippedAt: e.data.shippedAt ?? e.occurredAt,
        });
        break;
      case 'ShipmentTrackingUpdated': {
        const p = get(e.data.shipmentId);
        Object.assign(p, {
          status: e.data.state === 'delivered' ? 'delivered' : e.data.state === 'returned' ? 'returned' : 'in_transit',
          carrier: e.data.carrier,
          trackingNumber: e.data.trackingNumber,
          lastCarrierState: e.data.state,
          lastCarrierStateAt: e.data.at,
          lastCarrierDescription: e.data.description,
        });
        break;
      }
      case 'ShipmentCarrierException':
        Object.assign(get(e.data.shipmentId), { status: 'carrier_exception', lastCarrierState: 'problem', lastCarrierStateAt: e.data.at, lastCarrierDescription: e.data.description });
        break;
      case 'ShipmentDelivered':
        Object.assign(get(e.data.shipmentId), { status: 'delivered', deliveredAt: e.data.deliveredAt });
        break;
      case 'ShipmentInterceptRequested':
        Object.assign(get(e.data.shipmentId, e.data.warehouseId), { status: 'intercept_requested' });
        break;
      case 'FulfillmentStopped':
        // Only parcels already shown (packed ones); an unpacked parcel stopped never appeared.
        if (e.data.shipmentId && parcels.has(e.data.shipmentId)) Object.assign(get(e.data.shipmentId), { status: 'stopped' });
        break;
      case 'ReturnReceived':
        Object.assign(get(e.data.shipmentId, e.data.warehouseId), { status: 'returned' });
        break;
      default:
        break;
    }
  }
  return [...parcels.values()];
}
