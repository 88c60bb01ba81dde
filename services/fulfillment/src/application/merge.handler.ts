import { fold } from '@flowline/domain';
import type { PostgresEventStore, SqlClient } from '@flowline/eventstore';
import type { FulfillmentCommandDataMap } from '@flowline/contracts';
import {
  mergeGroupKeyOf,
  mergeParcelDecider,
  mergeRuleFor,
  mergeStream,
  type MergeCommand,
  type MergeEvent,
  type MergeGroupState,
  type MergeParcel,
  type MergeRuleSet,
} from '../domain/merge-parcel.decider';
import type { FulfillmentState, MergeDecision } from '../domain/order-fulfillment.decider';
import type { CommandMeta } from './fulfillment.handler';
import { shipmentNotFound } from './fulfillment.service';

/** A merged parcel's row (`merge_parcels`). */
export interface MergeParcelRow {
  parcel_id: string;
  group_key: string;
  shop_id: string;
  status: string;
  order_ids: string[];
  window_ends_at: string;
}

/**
 * The merge group's stream (`merge-<shop|buyer|address|warehouse>`, ADR 0013): load -> decide ->
 * append with the expected revision, always inside the caller's transaction, which also appends to
 * the orders' streams; a lost race throws and the caller's transaction is run again.
 */
export class MergeHandler {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly newId: () => string,
    readonly rules: MergeRuleSet,
  ) {}

  async load(client: SqlClient, groupKey: string): Promise<{ state: MergeGroupState; revision: number }> {
    const recorded = await this.store.readStreamWithin(client, mergeStream(groupKey));
    const events = recorded.map((r) => ({ type: r.type, data: r.data }) as MergeEvent);
    return { state: fold(mergeParcelDecider, events), revision: recorded.length ? recorded[recorded.length - 1].streamPosition : -1 };
  }

  /** Decides a merge command and appends its events and the parcel rows in the caller's transaction. */
  async execute(client: SqlClient, groupKey: string, command: MergeCommand, meta: CommandMeta): Promise<{ state: MergeGroupState; events: MergeEvent[] }> {
    const { state, revision } = await this.load(client, groupKey);
    const events = mergeParcelDecider.decide(command, state);
    if (events.length === 0) return { state, events };
    const at = 'at' in command ? command.at : new Date().toISOString();
    // One statement, no savepoint: a lost race throws and the caller's transaction runs again.
    const [result] = await this.store.appendToStreamsWithin(client, [
      {
        streamId: mergeStream(groupKey),
        events: events.map((e) => ({
          eventId: this.newId(),
          type: e.type,
          data: e.data,
          metadata: { correlationId: meta.correlationId, causationId: meta.causationId ?? meta.commandId, occurredAt: at, ...(meta.actor ? { actor: meta.actor } : {}) },
        })),
        expectedRevision: revision < 0 ? 'no_stream' : revision,
      },
    ]);
    const next = fold(mergeParcelDecider, events, state);
    const touched = new Set(events.map((e) => ('parcelId' in e.data ? e.data.parcelId : '')));
    for (const p of next.parcels.filter((x) => touched.has(x.parcelId))) {
      await client.query(
        `INSERT INTO merge_parcels (parcel_id, group_key, shop_id, status, order_ids, window_ends_at, stream_revision)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (parcel_id) DO UPDATE SET status = EXCLUDED.status, order_ids = EXCLUDED.order_ids, stream_revision = EXCLUDED.stream_revision, updated_at = now()
         WHERE merge_parcels.stream_revision <= EXCLUDED.stream_revision`,
        [p.parcelId, groupKey, shopOf(next, p), p.status, JSON.stringify(p.orders.map((o) => o.orderId)), p.windowEndsAt, result.nextExpectedRevision],
      );
    }
    return { state: next, events };
  }

  /**
   * StartFulfillment of an order that may share a parcel: same shop (merge on for it), buyer and
   * address keys, all lines in one warehouse, nothing made to order, the order's first start.
   * Offers it to its group (opening or joining a parcel) and answers the decision to record on
   * the order; undefined when the order cannot be merged at all (no keys, several warehouses).
   */
  async offer(
    client: SqlClient,
    data: FulfillmentCommandDataMap['StartFulfillment'],
    order: FulfillmentState,
    madeToOrder: boolean,
    at: string,
    meta: CommandMeta,
  ): Promise<MergeDecision | undefined> {
    if (!data.shopId || !data.buyerKey || !data.addressKey) return undefined;
    // A redelivery, a restart after a change, or a start after a cancel: never offered.
    if (order.status === 'open' && (order.startedAt !== null || order.stop)) return undefined;
    const warehouses = [...new Set(data.lines.map((l) => l.warehouseId ?? 'UNALLOCATED'))];
    const rule = mergeRuleFor(this.rules, data.shopId);
    if (!rule.enabled) return { parcelId: null, ruleVersion: rule.version, reason: 'merge_disabled' };
    if (warehouses.length !== 1) return { parcelId: null, ruleVersion: rule.version, reason: 'several_warehouses' };
    if (madeToOrder) return { parcelId: null, ruleVersion: rule.version, reason: 'made_to_order' };
    const groupKey = mergeGroupKeyOf({ shopId: data.shopId, buyerKey: data.buyerKey, addressKey: data.addressKey, warehouseId: warehouses[0] });
    const { state } = await this.execute(
      client,
      groupKey,
      { type: 'OfferOrderForMerge', groupKey, orderId: data.orderId, shopId: data.shopId, lines: data.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: l.quantity })), rule, at },
      meta,
    );
    const parcelId = state.placed[data.orderId];
    return parcelId ? { parcelId, ruleVersion: rule.version } : { parcelId: null, ruleVersion: rule.version, reason: 'merge_disabled' };
  }

  async row(client: SqlClient, parcelId: string): Promise<MergeParcelRow> {
    const r = await client.query<MergeParcelRow>('SELECT parcel_id, group_key, shop_id, status, order_ids, window_ends_at FROM merge_parcels WHERE parcel_id = $1', [parcelId]);
    if (!r.rows[0]) throw shipmentNotFound(parcelId);
    return r.rows[0];
  }

  /** The merged parcel as its group's stream has it (orders still in it, status, window). */
  async parcel(client: SqlClient, parcelId: string): Promise<{ groupKey: string; parcel: MergeParcel }> {
    const row = await this.row(client, parcelId);
    const { state } = await this.load(client, row.group_key);
    const parcel = state.parcels.find((p) => p.parcelId === parcelId);
    if (!parcel) throw shipmentNotFound(parcelId);
    return { groupKey: row.group_key, parcel };
  }

  /** Serialises the warehouse's actions on one merged parcel (its orders' streams are appended in one transaction). */
  async lock(client: SqlClient, parcelId: string): Promise<void> {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('merge-parcel:' || $1))", [parcelId]);
  }
}

function shopOf(s: MergeGroupState, p: MergeParcel): string {
  // The group key starts with the shop id.
  return (s.groupKey ?? p.parcelId).split('|')[0];
}
