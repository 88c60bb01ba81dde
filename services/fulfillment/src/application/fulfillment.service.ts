import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import type { SqlClient } from '@flowline/eventstore';
import { waybillCarrierOf, type CarrierChoice, type CarrierChoiceInput } from '../domain/carrier-rules';
import { allocateScan, assertMergeParcelPickable } from '../domain/merge-parcel.decider';
import { freezeOf, hasLeft, refuseIfHeld, type FulfillmentCommand, type FulfillmentState, type OpenFulfillment, type Shipment, type ShipmentStatus } from '../domain/order-fulfillment.decider';
import type { CarrierRegistry } from './carrier.port';
import type { CommandMeta, FulfillmentHandler, Outcome } from './fulfillment.handler';
import type { MergeHandler } from './merge.handler';
import { IN_SHOPS } from './shipment-rows';

/** A parcel as the API shows it. */
export interface ShipmentView {
  shipmentId: string;
  orderId: string;
  /** The platform's order number (淘宝/京东 订单号) the warehouse reads; null for orders started before fulfillment kept it. */
  channelOrderId: string | null;
  warehouseId: string;
  status: Shipment['status'];
  lines: Shipment['lines'];
  scanned: Record<string, number>;
  carrier: string | null;
  waybillNo: string | null;
  trackingNumber: string | null;
  carrierState: string | null;
  carrierStateAt: string | null;
  packedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  shippedAfterStop: boolean;
  /** Parcel weight in grams (line weights, else the per-SKU defaults). */
  weightGrams: number;
  /** The merged parcel (合单) this parcel is part of, and the orders packed in it. */
  mergeParcelId: string | null;
  mergedOrderIds: string[];
  /** The order is on hold or flagged (挂起 / 异常): the parcel is not picked, packed or shipped until resumed. Null when not held. */
  holdReason: string | null;
}

/**
 * A merged parcel (合单) as the warehouse sees it: one box, one waybill, the lines of every order
 * still in it (each naming its order), the scans summed; `members` are the orders' own parcels.
 */
export interface MergedParcelView extends ShipmentView {
  lines: (Shipment['lines'][number] & { orderId: string })[];
  mergeParcelId: string;
  /** open (orders may still join until windowEndsAt), sealed (picking started or window passed), packed, empty (every order left). */
  mergeStatus: string;
  windowEndsAt: string;
  /** The box's carrier chosen at packing from its orders together (several orders), with rule id and version. */
  carrierChoice: CarrierChoice | null;
  members: ShipmentView[];
}

/** Member parcel stages from least to most advanced: the merged parcel shows its least advanced member. */
const STAGE_RANK: ShipmentStatus[] = ['awaiting_production', 'created', 'picking', 'packed', 'intercept_requested', 'shipped', 'in_transit', 'carrier_exception', 'delivered', 'returned', 'stopped'];
/** Warehouse actions that act on the whole merged parcel when given a member's id. */
const PARCEL_ACTIONS: ShipmentAction['type'][] = ['StartPicking', 'ScanItem', 'PackShipment', 'ShipShipment'];
export const isMergeParcelId = (id: string): boolean => id.startsWith('MRG-');

export interface OrderFulfillmentView {
  orderId: string;
  priority: 'normal' | 'high';
  stop: { reason: string; at: string } | null;
  /** On hold or flagged on the order side (挂起 / 异常): no parcel of it moves until resumed. */
  hold: { reason: string; at: string } | null;
  freeze: ReturnType<typeof freezeOf>;
  carrierChoice: OpenFulfillment['carrierChoice'];
  shipments: ShipmentView[];
  returns: OpenFulfillment['returns'];
  version: number;
}

export function shipmentView(s: OpenFulfillment, sh: Shipment): ShipmentView {
  return {
    shipmentId: sh.shipmentId,
    orderId: s.orderId,
    channelOrderId: s.channelOrderId,
    warehouseId: sh.warehouseId,
    status: sh.status,
    lines: sh.lines,
    scanned: sh.scanned,
    carrier: sh.carrier,
    waybillNo: sh.waybillNo,
    trackingNumber: sh.trackingNumber,
    carrierState: sh.carrierState,
    carrierStateAt: sh.carrierStateAt,
    packedAt: sh.packedAt,
    shippedAt: sh.shippedAt,
    deliveredAt: sh.deliveredAt,
    shippedAfterStop: sh.shippedAfterStop,
    weightGrams: sh.weightGrams,
    mergeParcelId: sh.mergeParcelId,
    mergedOrderIds: sh.mergedOrderIds,
    holdReason: s.hold?.reason ?? null,
  };
}

/** An order whose fulfilment has not started (404); also how another shop's order answers a shop-limited user. */
export const fulfillmentNotStarted = (orderId: string) => new DomainError('FULFILLMENT_NOT_STARTED', `fulfilment of order ${orderId} has not started`, { orderId }, 'not_found');

/** An unknown parcel (404); also how another shop's parcel answers a shop-limited user. */
export const shipmentNotFound = (shipmentId: string) => new DomainError('SHIPMENT_NOT_FOUND', `no shipment ${shipmentId}`, { shipmentId }, 'not_found');

/** What releasing an unknown id answers (and another shop's, to a shop-limited user): no merged box by that id, or no box the parcel is in. */
export const releaseTargetNotFound = (shipmentId: string) =>
  isMergeParcelId(shipmentId) ? shipmentNotFound(shipmentId) : new DomainError('MERGE_PARCEL_NOT_FOUND', `shipment ${shipmentId} is in no merged parcel: nothing to release`, { shipmentId }, 'not_found');

/** The freeze of an order fulfilment does not know: not frozen. */
export const unknownOrderFreeze = (orderId: string) => ({ orderId, frozen: false, reason: null, override: null });

export function orderView(o: Outcome): OrderFulfillmentView {
  if (o.state.status === 'none') throw fulfillmentNotStarted(o.orderId);
  const s: OpenFulfillment = o.state;
  return { orderId: s.orderId, priority: s.priority, stop: s.stop, freeze: freezeOf(s), carrierChoice: s.carrierChoice, hold: s.hold, shipments: s.shipments.map((x) => shipmentView(s, x)), returns: s.returns, version: o.revision };
}

export type ShipmentAction =
  | { type: 'StartPicking' }
  | { type: 'ScanItem'; sku: string; quantity: number }
  | { type: 'PackShipment'; waybillNo?: string; carrier?: string }
  | { type: 'ShipShipment'; carrier?: string; trackingNumber?: string }
  | { type: 'ConfirmIntercept' }
  | { type: 'RejectIntercept' };

/** The warehouse's use cases (REST and gRPC share them): each command on a parcel, queries, the freeze. */
export class FulfillmentService {
  constructor(
    private readonly pool: Pool,
    private readonly handler: FulfillmentHandler,
    private readonly carriers: CarrierRegistry,
    private readonly defaultCarrier: string,
    /** Called after a parcel left the warehouse (tracking subscription); its failure does not undo the handover. */
    private readonly afterShipped: (view: ShipmentView) => Promise<void> = () => Promise.resolve(),
    /** Merged parcels (合单); without it no parcel is merged. */
    private readonly merges?: MergeHandler,
    /** The carrier rules, for a merged box chosen again from its orders together. */
    private readonly chooseCarrier?: (input: CarrierChoiceInput) => CarrierChoice,
    /** The clock of warehouse actions (a merged box's window is compared with it). */
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  /**
   * The carrier of a box of several orders, by the rules, from its orders together: the first
   * order's destination and channel (one address, one shop), the amounts and weights summed, a
   * platform designation of any of them. Undefined when an order has no recorded input.
   */
  private boxCarrierChoice(states: FulfillmentState[], weightGrams: number): CarrierChoice | undefined {
    if (!this.chooseCarrier || states.length < 2) return undefined;
    const inputs = states.map((x) => (x.status === 'open' ? x.carrierInput : null));
    if (inputs.some((i) => !i)) return undefined;
    const all = inputs as CarrierChoiceInput[];
    const designated = all.find((i) => i.designatedCarrier)?.designatedCarrier;
    return this.chooseCarrier({
      ...(all[0].province ? { province: all[0].province } : {}),
      ...(all[0].channel ? { channel: all[0].channel } : {}),
      grandTotal: all.reduce((n, i) => n + (i.grandTotal ?? 0), 0),
      weightGrams,
      ...(designated ? { designatedCarrier: designated } : {}),
    });
  }

  private mergeHandler(): MergeHandler {
    if (!this.merges) throw new DomainError('SHIPMENT_NOT_FOUND', 'merged parcels are not available here', {}, 'not_found');
    return this.merges;
  }

  /** A merged parcel now (or as the caller's transaction sees it). */
  async mergedView(parcelId: string, client: SqlClient = this.pool): Promise<MergedParcelView> {
    const { parcel } = await this.mergeHandler().parcel(client, parcelId);
    const members: { state: OpenFulfillment; view: ShipmentView }[] = [];
    for (const o of parcel.orders) {
      const { state } = await this.handler.load(o.orderId, client);
      if (state.status !== 'open') continue;
      const sh = state.shipments.find((x) => x.mergeParcelId === parcelId);
      if (sh) members.push({ state, view: shipmentView(state, sh) });
    }
    const views = members.map((m) => m.view);
    const first = views[0];
    const scanned: Record<string, number> = {};
    for (const v of views) for (const [sku, n] of Object.entries(v.scanned)) scanned[sku] = (scanned[sku] ?? 0) + n;
    const status = views.length ? views.map((v) => v.status).reduce((a, b) => (STAGE_RANK.indexOf(b) < STAGE_RANK.indexOf(a) ? b : a)) : 'stopped';
    return {
      shipmentId: parcelId,
      orderId: first?.orderId ?? '',
      channelOrderId: first?.channelOrderId ?? null,
      warehouseId: first?.warehouseId ?? '',
      status,
      lines: views.flatMap((v) => v.lines.map((l) => ({ ...l, orderId: v.orderId }))),
      scanned,
      carrier: first?.carrier ?? null,
      waybillNo: first?.waybillNo ?? null,
      trackingNumber: first?.trackingNumber ?? null,
      carrierState: first?.carrierState ?? null,
      carrierStateAt: first?.carrierStateAt ?? null,
      packedAt: first?.packedAt ?? null,
      shippedAt: first?.shippedAt ?? null,
      deliveredAt: first?.deliveredAt ?? null,
      shippedAfterStop: false,
      weightGrams: views.reduce((n, v) => n + v.weightGrams, 0),
      // One order of the box on hold holds the box (it is packed and shipped as one).
      holdReason: views.find((v) => v.holdReason)?.holdReason ?? null,
      mergeParcelId: parcelId,
      mergedOrderIds: views.map((v) => v.orderId),
      mergeStatus: parcel.status,
      windowEndsAt: parcel.windowEndsAt,
      carrierChoice: parcel.carrierChoice ?? null,
      members: views,
    };
  }

  /**
   * A warehouse action on a merged parcel: every order still in it is changed in one transaction
   * (the group's stream and each order's stream; a lost race runs it again). Picking or a scan
   * seals the parcel (no order joins after that); a scan goes to the orders that still need the
   * SKU; packing prints one waybill for the box and packs every order's parcel with it.
   */
  async actMerged(parcelId: string, action: ShipmentAction, meta: CommandMeta): Promise<MergedParcelView> {
    const merges = this.mergeHandler();
    if (meta.idempotency) {
      const seen = await this.handler.replay<MergedParcelView>(meta.idempotency.key, meta.idempotency.request);
      if (seen !== undefined) return seen;
    }
    let waybill: { waybillNo: string; carrier: string } | undefined;
    let boxChoice: CarrierChoice | undefined;
    if (action.type === 'PackShipment') {
      // The carrier's waybill is asked before the transaction (I/O outside the deciders); never for a box still open for orders.
      const before = await this.mergedView(parcelId);
      assertMergeParcelPickable({ parcelId, status: before.mergeStatus as 'open', windowEndsAt: before.windowEndsAt }, this.now());
      // Never a waybill booked for a box with an order on hold (each order's decider refuses the pack too).
      for (const m of before.members) refuseIfHeld({ orderId: m.orderId, hold: m.holdReason ? { reason: m.holdReason } : null }, parcelId, 'pack');
      if (before.waybillNo) waybill = { waybillNo: before.waybillNo, carrier: before.carrier ?? this.defaultCarrier };
      else {
        const states = await Promise.all(before.members.map(async (m) => (await this.handler.load(m.orderId)).state));
        const choices = states.map((x) => (x.status === 'open' ? x.carrierChoice : null));
        // Several orders: the rules again, on the box (weight and amount together; a designation of
        // any order first); one order: its own choice. A designated carrier wins over the warehouse's.
        boxChoice = this.boxCarrierChoice(states, before.weightGrams);
        const choice = boxChoice ?? choices.find((c) => c?.designated) ?? choices[0];
        const carrierCode = waybillCarrierOf(choice, { ...(action.carrier ? { requested: action.carrier } : {}), waybillGiven: !!action.waybillNo, configured: this.carriers.codes(), defaultCarrier: this.defaultCarrier });
        if (action.carrier && !boxChoice?.designated) boxChoice = undefined;
        if (before.members.length === 0) throw new DomainError('SHIPMENT_STOPPED', `cannot pack: every order left merged parcel ${parcelId}`, { shipmentId: parcelId });
        waybill = action.waybillNo
          ? { waybillNo: action.waybillNo, carrier: carrierCode }
          : { waybillNo: (await this.carriers.get(carrierCode).createWaybill({ orderId: before.orderId, shipmentId: parcelId, warehouseId: before.warehouseId, lines: before.lines })).waybillNo, carrier: carrierCode };
      }
    }
    let raced = false;
    const view = await this.handler.transaction(async (c) => {
      await merges.lock(c, parcelId);
      const { groupKey, parcel } = await merges.parcel(c, parcelId);
      const at = this.now();
      const current = await this.mergedView(parcelId, c);
      if (current.members.length === 0) throw new DomainError('SHIPMENT_STOPPED', `cannot act on merged parcel ${parcelId}: every order in it was stopped`, { shipmentId: parcelId, reason: 'every order left the parcel' });
      // Picking, scanning, packing: only once no order can join (window ended, or released by a person).
      if (PARCEL_ACTIONS.includes(action.type) && action.type !== 'ShipShipment') assertMergeParcelPickable(parcel, at);
      const seal = async () => {
        if (parcel.status === 'open') await merges.execute(c, groupKey, { type: 'SealMergeParcel', parcelId, reason: 'window_closed', at }, meta);
      };
      const each = async (f: (m: ShipmentView) => FulfillmentCommand | null) => {
        for (const m of current.members) {
          const command = f(m);
          if (command) await this.handler.executeIn(c, m.orderId, command, meta);
        }
      };
      switch (action.type) {
        case 'StartPicking':
          await seal();
          await each((m) => ({ type: 'StartPicking', shipmentId: m.shipmentId, at }));
          break;
        case 'ScanItem': {
          const allocation = allocateScan(parcelId, current.members, action.sku, action.quantity);
          await seal();
          // The first scan starts picking the whole box.
          await each((m) => (m.status === 'created' ? { type: 'StartPicking', shipmentId: m.shipmentId, at } : null));
          for (const a of allocation) await this.handler.executeIn(c, a.orderId, { type: 'ScanItem', shipmentId: a.shipmentId, sku: action.sku, quantity: a.quantity, at }, meta);
          break;
        }
        case 'PackShipment': {
          const w = waybill as { waybillNo: string; carrier: string };
          const orderIds = current.members.map((m) => m.orderId);
          // The orders' parcels first: an incomplete one refuses the pack (PACK_INCOMPLETE) before the group records it.
          await each((m) => ({ type: 'PackShipment', shipmentId: m.shipmentId, waybillNo: w.waybillNo, carrier: w.carrier, at, merged: { parcelId, orderIds } }));
          await merges.execute(c, groupKey, { type: 'MarkMergeParcelPacked', parcelId, at, ...(boxChoice && orderIds.length > 1 ? { carrierChoice: boxChoice } : {}) }, meta);
          break;
        }
        case 'ShipShipment':
          await each((m) => ({ type: 'ShipShipment', shipmentId: m.shipmentId, ...(action.carrier ? { carrier: action.carrier } : {}), ...(action.trackingNumber ? { trackingNumber: action.trackingNumber } : {}), at }));
          break;
        case 'ConfirmIntercept':
        case 'RejectIntercept':
          await each((m) => (m.status === 'intercept_requested' || current.members.length === 1 ? { type: action.type, shipmentId: m.shipmentId, at } : null));
          break;
      }
      const after = await this.mergedView(parcelId, c);
      if (meta.idempotency && !(await this.handler.claimIdempotency(c, meta.idempotency, after))) {
        // The same key raced in at the same moment: undo ours, answer with its reply.
        raced = true;
        throw new RacedIdempotency();
      }
      return after;
    }).catch((e: unknown) => {
      if (e instanceof RacedIdempotency) return undefined;
      throw e;
    });
    if (raced || !view) return (await this.handler.replay<MergedParcelView>(meta.idempotency?.key ?? '', meta.idempotency?.request)) as MergedParcelView;
    if (action.type === 'ShipShipment' || action.type === 'RejectIntercept') for (const m of view.members) if (m.status === 'shipped') await this.afterShipped(m);
    return view;
  }

  /**
   * A person releases a merged box for picking before its window ends (a member's parcel id names
   * its box): the box is sealed (reason `released`, who and why recorded), no order joins it after
   * that, and it is on the pick list from now on. Releasing a box already sealed changes nothing.
   */
  async releaseMerged(shipmentId: string, reason: string, meta: CommandMeta): Promise<MergedParcelView> {
    const merges = this.mergeHandler();
    const parcelId = isMergeParcelId(shipmentId) ? shipmentId : await this.mergeParcelOf(shipmentId);
    if (!parcelId) throw releaseTargetNotFound(shipmentId);
    const by = { id: meta.actor?.id ?? 'unknown', ...(meta.actor?.role ? { role: meta.actor.role } : {}) };
    return this.handler.transaction(async (c) => {
      await merges.lock(c, parcelId);
      const { groupKey } = await merges.parcel(c, parcelId);
      await merges.execute(c, groupKey, { type: 'ReleaseMergeParcel', parcelId, by, reason, at: this.now() }, meta);
      return this.mergedView(parcelId, c);
    });
  }

  async orderIdOfShipment(shipmentId: string): Promise<string> {
    const r = await this.pool.query<{ order_id: string }>('SELECT order_id FROM shipments WHERE shipment_id = $1', [shipmentId]);
    if (!r.rows[0]) throw shipmentNotFound(shipmentId);
    return r.rows[0].order_id;
  }

  /** The shop of an order's fulfilment (null: not started, or started before fulfillment kept shops). */
  async shopOfOrder(orderId: string): Promise<string | null> {
    const { state } = await this.handler.load(orderId);
    return state.status === 'open' ? state.shopId : null;
  }

  /**
   * The shop of a parcel's order, or of a merged box (null when unknown). The parcel row keeps it
   * (migration v2); a row written before that has none and the order's stream is read instead.
   */
  async shopOfShipment(shipmentId: string): Promise<string | null> {
    if (isMergeParcelId(shipmentId)) {
      const r = await this.pool.query<{ shop_id: string }>('SELECT shop_id FROM merge_parcels WHERE parcel_id = $1', [shipmentId]);
      return r.rows[0]?.shop_id ?? null;
    }
    const r = await this.pool.query<{ order_id: string; shop_id: string | null }>('SELECT order_id, shop_id FROM shipments WHERE shipment_id = $1', [shipmentId]);
    const row = r.rows[0];
    if (!row) return null;
    return row.shop_id ?? this.shopOfOrder(row.order_id);
  }

  /** The merged parcel a parcel belongs to, if any. */
  async mergeParcelOf(shipmentId: string): Promise<string | null> {
    const r = await this.pool.query<{ merge_parcel_id: string | null }>('SELECT merge_parcel_id FROM shipments WHERE shipment_id = $1', [shipmentId]);
    return r.rows[0]?.merge_parcel_id ?? null;
  }

  async order(orderId: string): Promise<OrderFulfillmentView> {
    const { state, revision } = await this.handler.load(orderId);
    return orderView({ orderId, state, events: [], revision });
  }

  async shipment(shipmentId: string): Promise<ShipmentView> {
    if (isMergeParcelId(shipmentId)) return this.mergedView(shipmentId);
    const o = await this.order(await this.orderIdOfShipment(shipmentId));
    const sh = o.shipments.find((x) => x.shipmentId === shipmentId);
    if (!sh) throw shipmentNotFound(shipmentId);
    return sh;
  }

  /**
   * Parcels to pick in a warehouse: created or picking, high priority first, oldest first. Stopped
   * parcels are withdrawn, and held ones (the order on hold or flagged; a merged box with a held order) until resumed; a merged box (合单) is held back while orders may still join it (open and
   * inside its window), until its window ends or a person releases it.
   */
  async pickList(warehouseId: string, limit = 100, shops?: readonly string[]): Promise<ShipmentView[]> {
    const r = await this.pool.query<{ order_id: string; shipment_id: string; merge_parcel_id: string | null }>(
      `SELECT s.order_id, s.shipment_id, s.merge_parcel_id FROM shipments s
         LEFT JOIN merge_parcels p ON p.parcel_id = s.merge_parcel_id
        WHERE s.warehouse_id = $1 AND s.status IN ('created', 'picking') AND s.hold_reason IS NULL
          AND (s.merge_parcel_id IS NULL OR NOT EXISTS (SELECT 1 FROM shipments h WHERE h.merge_parcel_id = s.merge_parcel_id AND h.hold_reason IS NOT NULL))
          AND (p.parcel_id IS NULL OR p.status <> 'open' OR p.window_ends_at::timestamptz <= $3::timestamptz)
          AND ${IN_SHOPS('s.shop_id', 4)}
        ORDER BY (s.priority = 'high') DESC, s.created_at, s.shipment_id LIMIT $2`,
      [warehouseId, limit, this.now(), shops ?? null],
    );
    const out: ShipmentView[] = [];
    const mergedSeen = new Set<string>();
    for (const row of r.rows) {
      // Orders sharing a box are one entry (the merged parcel) once there are two of them.
      if (row.merge_parcel_id && this.merges) {
        if (mergedSeen.has(row.merge_parcel_id)) continue;
        mergedSeen.add(row.merge_parcel_id);
        const merged = await this.mergedView(row.merge_parcel_id);
        if (merged.members.length > 1) {
          if (merged.status === 'created' || merged.status === 'picking') out.push(merged);
          continue;
        }
      }
      const o = await this.order(row.order_id);
      const sh = o.shipments.find((x) => x.shipmentId === row.shipment_id);
      if (sh && (sh.status === 'created' || sh.status === 'picking')) out.push(sh);
    }
    return out;
  }

  /** Print data of a packed parcel's label (电子面单). */
  async label(shipmentId: string) {
    const own = await this.shipment(shipmentId);
    // A member of a merged parcel prints the box's label (one waybill for every order in it).
    const sh = !isMergeParcelId(shipmentId) && own.mergeParcelId && this.merges ? await this.mergedView(own.mergeParcelId).then((m) => (m.members.length > 1 ? m : own)) : own;
    if (!sh.waybillNo) throw new DomainError('SHIPMENT_NOT_PACKED', `shipment ${shipmentId} has no waybill yet (pack it first)`, { shipmentId });
    return {
      shipmentId,
      orderId: sh.orderId,
      carrier: sh.carrier,
      waybillNo: sh.waybillNo,
      warehouseId: sh.warehouseId,
      lines: sh.lines,
      weightGrams: sh.weightGrams,
      ...(sh.mergeParcelId ? { mergeParcelId: sh.mergeParcelId, orderIds: sh.mergedOrderIds.length ? sh.mergedOrderIds : [sh.orderId] } : {}),
      // The receiver stays with the platform (encrypted oaid); the carrier prints it from the waybill.
      barcode: { format: 'CODE128', value: sh.waybillNo },
    };
  }

  /** The command a REST / gRPC action becomes; the waybill is asked from the carrier before deciding (I/O outside the decider). */
  async command(orderId: string, shipmentId: string, action: ShipmentAction, at: string): Promise<FulfillmentCommand> {
    switch (action.type) {
      case 'StartPicking':
      case 'ConfirmIntercept':
      case 'RejectIntercept':
        return { type: action.type, shipmentId, at };
      case 'ScanItem':
        return { type: 'ScanItem', shipmentId, sku: action.sku, quantity: action.quantity, at };
      case 'ShipShipment':
        return { type: 'ShipShipment', shipmentId, ...(action.carrier ? { carrier: action.carrier } : {}), ...(action.trackingNumber ? { trackingNumber: action.trackingNumber } : {}), at };
      case 'PackShipment': {
        const current = await this.order(orderId);
        const sh = current.shipments.find((x) => x.shipmentId === shipmentId);
        if (!sh) throw shipmentNotFound(shipmentId);
        // Never a waybill booked with the carrier for a held order (the decider refuses the pack too).
        if (sh.status === 'picking') refuseIfHeld(current, shipmentId, 'pack');
        // Packed already (a retry): keep its waybill, the decider answers with no event.
        if (sh.waybillNo && !action.waybillNo) return { type: 'PackShipment', shipmentId, waybillNo: sh.waybillNo, carrier: sh.carrier ?? this.defaultCarrier, at };
        // A platform-designated carrier first (never another one, never the default in its place);
        // else the warehouse's choice, else the rules' choice if configured here, else the default.
        const carrierCode = waybillCarrierOf(current.carrierChoice, { ...(action.carrier ? { requested: action.carrier } : {}), waybillGiven: !!action.waybillNo, configured: this.carriers.codes(), defaultCarrier: this.defaultCarrier });
        if (action.waybillNo) return { type: 'PackShipment', shipmentId, waybillNo: action.waybillNo, carrier: carrierCode, at };
        const { waybillNo } = await this.carriers.get(carrierCode).createWaybill({ orderId, shipmentId, warehouseId: sh.warehouseId, lines: sh.lines });
        return { type: 'PackShipment', shipmentId, waybillNo, carrier: carrierCode, at };
      }
    }
  }

  /** Runs an action on a parcel; with an idempotency key a repeat gets the first reply. */
  async act(shipmentId: string, action: ShipmentAction, meta: CommandMeta): Promise<ShipmentView> {
    if (isMergeParcelId(shipmentId)) return this.actMerged(shipmentId, action, meta);
    const merged = this.merges ? await this.mergeParcelOf(shipmentId) : null;
    if (merged && PARCEL_ACTIONS.includes(action.type)) {
      // A member's id acts on its whole box; the reply is the member's parcel.
      const view = await this.actMerged(merged, action, meta);
      return view.members.find((m) => m.shipmentId === shipmentId) ?? (await this.shipment(shipmentId));
    }
    const orderId = await this.orderIdOfShipment(shipmentId);
    const command = await this.command(orderId, shipmentId, action, new Date().toISOString());
    const reply = (o: Outcome) => {
      const view = orderView(o).shipments.find((x) => x.shipmentId === shipmentId);
      if (!view) throw shipmentNotFound(shipmentId);
      return view;
    };
    const view = meta.idempotency ? await this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply) : reply(await this.handler.execute(orderId, command, meta));
    if ((action.type === 'ShipShipment' || action.type === 'RejectIntercept') && view.status === 'shipped') await this.afterShipped(view);
    return view;
  }

  /** The freeze rule for the change-request flow: may this order's address or items still change? */
  async freeze(orderId: string) {
    const o = await this.order(orderId).catch((e: unknown) => {
      if (e instanceof DomainError && e.kind === 'not_found') return null;
      throw e;
    });
    if (!o) return unknownOrderFreeze(orderId);
    return { orderId, ...o.freeze, shipped: o.shipments.some((s) => hasLeft({ status: s.status } as Shipment)) };
  }

  private run<T>(orderId: string, command: FulfillmentCommand, meta: CommandMeta, reply: (o: Outcome) => T): Promise<T> {
    if (meta.idempotency) return this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply);
    return this.handler.execute(orderId, command, meta).then(reply);
  }

  /** Opens a return (RMA) for a delivered or refused parcel. */
  async requestReturn(shipmentId: string, input: { rmaId: string; lines: { sku: string; quantity: number }[]; reason: string }, meta: CommandMeta) {
    const orderId = await this.orderIdOfShipment(shipmentId);
    return this.run(orderId, { type: 'RequestReturn', shipmentId, ...input, at: new Date().toISOString() }, meta, (o) => orderView(o).returns.find((r) => r.rmaId === input.rmaId));
  }

  /** The returned parcel arrived: resellable units are restocked through inventory, damaged ones written off. */
  async receiveReturn(orderId: string, rmaId: string, lines: { sku: string; quantity: number; condition: 'resellable' | 'damaged' }[], meta: CommandMeta) {
    return this.run(orderId, { type: 'ReceiveReturn', rmaId, lines, at: new Date().toISOString() }, meta, (o) => orderView(o).returns.find((r) => r.rmaId === rmaId));
  }

  async overrideFreeze(orderId: string, actor: { id: string; role: string; name?: string }, reason: string, meta: CommandMeta) {
    const command: FulfillmentCommand = { type: 'OverrideFreeze', actor, reason, at: new Date().toISOString() };
    const reply = (o: Outcome) => ({ orderId, ...orderView(o).freeze });
    if (meta.idempotency) return this.handler.executeOnce(orderId, command, { ...meta, idempotency: meta.idempotency }, reply);
    return reply(await this.handler.execute(orderId, command, meta));
  }
}

class RacedIdempotency extends Error {}
