import type { Actor as EnvelopeActor, EventEnvelope } from '@flowline/contracts';
import type { SqlClient } from '@flowline/eventstore';
import type { ApprovalCommand } from '../domain/approval.decider';
import { nextHoldings } from '../domain/change-request';
import type { ApprovalService, CommandMeta } from './approval.service';
import { RECORDED_STAGE_OF, type OrderSnapshots } from './order-snapshots';

const SYSTEM_ACTOR: EnvelopeActor = { kind: 'service', id: 'approval', role: 'system' };

/**
 * What approval takes from orders.events.v1, fulfillment.events.v1 and inventory.events.v1: the
 * order snapshot change requests are diffed against and frozen by, and the outcomes that decide a
 * change (its own reservation `chg-<approvalId>`, the order applying or refusing it).
 *
 * `accepts` is asked before any transaction: every other event (payments, reservations of orders,
 * stock levels, the stages a change may still be made in, every fulfillment event but packing)
 * is acknowledged without a transaction or an inbox row, so an order that never sees a change
 * request costs approval one accepted event (OrderPlaced), batched with others (issue #10).
 */
export class OrderWatcher {
  constructor(
    private readonly deps: {
      service: ApprovalService;
      snapshots: OrderSnapshots;
      now: () => Promise<string>;
    },
  ) {}

  /** Whether `accepts` could take a message of this type at all (the consumer's filter on the type header, before parsing). */
  static mayAccept(type: string): boolean {
    return type === 'StockReserved' || type === 'StockShortage' || type === 'OrderPlaced' || type === 'OrderChanged' || type === 'OrderChangeRefused' || type === 'ShipmentPacked' || type in RECORDED_STAGE_OF;
  }

  accepts(envelope: EventEnvelope): boolean {
    const type = envelope.type;
    switch (type) {
      case 'StockReserved':
      case 'StockShortage': {
        const orderId = (envelope.data as { orderId?: unknown } | null)?.orderId;
        return typeof orderId === 'string' && orderId.startsWith('chg-');
      }
      case 'OrderPlaced':
      case 'OrderChanged':
      case 'OrderChangeRefused':
      case 'ShipmentPacked':
        return true;
      default:
        return type in RECORDED_STAGE_OF;
    }
  }

  /** Applies one accepted event inside the consumer's transaction (`client`). */
  async apply(envelope: EventEnvelope, client: SqlClient): Promise<void> {
    const { service, snapshots } = this.deps;
    if (envelope.type === 'StockReserved' || envelope.type === 'StockShortage') {
      const d = envelope.data as { orderId: string; allocations?: { lineId: string; sku: string; warehouseId: string; quantity: number }[]; missing?: { sku: string; requested: number; available: number }[] };
      if (!d.orderId.startsWith('chg-')) return;
      const now = await this.deps.now();
      const approvalId = d.orderId.slice('chg-'.length);
      const command: ApprovalCommand =
        envelope.type === 'StockReserved'
          ? { type: 'RecordChangeStock', data: { reserved: true, allocations: d.allocations ?? [], now } }
          : { type: 'RecordChangeStock', data: { reserved: false, missing: d.missing ?? [], now } };
      await service.execute(client, approvalId, () => command, this.meta(envelope, now));
      return;
    }
    if (envelope.type === 'OrderChangeRefused') {
      const now = await this.deps.now();
      const d = envelope.data as { approvalId: string; reason: string };
      await service.execute(client, d.approvalId, () => ({ type: 'RecordChangeRefusedByOrder', data: { reason: d.reason, now } }), this.meta(envelope, now));
    }
    if (envelope.type === 'OrderChanged') {
      const d = envelope.data as { orderId: string; approvalId?: string; reservationId?: string; allocations?: { lineId: string; sku: string; quantity: number }[] };
      if (d.approvalId) {
        const now = await this.deps.now();
        // Units this change gives up come back from where they are held: earlier changes' own
        // reservations first (latest first), then the order's; the holdings follow in the same transaction.
        const holdings = await snapshots.holdings(client, d.orderId);
        const r = await service.execute(client, d.approvalId, () => ({ type: 'RecordChangeApplied', data: { now, holdings } }), this.meta(envelope, now));
        const released = r.events.flatMap((e) => (e.type === 'ChangeStockLinesReleaseRequested' ? [{ ...(e.data.reservationId ? { reservationId: e.data.reservationId } : {}), lines: e.data.lines }] : []));
        await snapshots.setHoldings(client, d.orderId, nextHoldings(holdings, released, d));
      }
    }
    await snapshots.apply(client, envelope);
  }

  private meta(envelope: EventEnvelope, now: string): CommandMeta {
    return { correlationId: envelope.correlationId, causationId: envelope.eventId, actor: SYSTEM_ACTOR, now };
  }
}
