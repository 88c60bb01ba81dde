import { DomainError, assertNever, type Decider } from '@flowline/domain';
import type { CarrierChoice } from './carrier-rules';

/**
 * Merge (合单): paid orders of the same buyer and the same address in one shop that become ready
 * to ship within a configurable window travel in one parcel. ADR 0011 keeps one stream per order
 * for the order's own parcels; a merged parcel spans orders, so it is its own aggregate, one
 * stream per merge group (`merge-<shopId>-<buyer/address key>`), decided here, pure.
 *
 * - The rule is data (`MergeRuleSet`: a default and per-shop overrides: enabled, window), and
 *   every decision records the rule version it was made with.
 * - The first order opens a parcel whose window closes `windowMinutes` later; orders offered
 *   before then join it; after the window (or once packing starts: `SealMergeParcel`) the parcel
 *   is sealed and the next order opens a new parcel.
 * - A refund or cancel of one order takes only its lines out (`RemoveMergedOrder`), while the
 *   parcel is not packed; the last order out empties the parcel. After packing, the order's stop
 *   goes through the intercept of the order fulfilment decider instead (refused here).
 */

export interface MergeRule {
  enabled: boolean;
  /** Orders ready within this many minutes of the first one share its parcel. */
  windowMinutes: number;
}

export interface MergeRuleSet {
  version: string;
  default: MergeRule;
  /** Per shop id. */
  shops: Record<string, MergeRule>;
}

/** The rule in force for a shop (its override, else the default). */
export function mergeRuleFor(rules: MergeRuleSet, shopId: string): MergeRule & { version: string } {
  return { ...(rules.shops[shopId] ?? rules.default), version: rules.version };
}

/** Checks a rule set given as data (a YAML/JSON document); an error names the faulty path. */
export function parseMergeRules(doc: unknown, source = 'merge rules'): MergeRuleSet {
  const fail = (path: string, why: string): never => {
    throw new Error(`${source}: ${path} ${why}`);
  };
  if (!doc || typeof doc !== 'object') return fail('(root)', 'must be a mapping');
  const d = doc as Record<string, unknown>;
  if (typeof d.version !== 'string' || !d.version) fail('version', 'must be a non-empty string');
  const rule = (v: unknown, path: string): MergeRule => {
    const r = (v ?? {}) as Record<string, unknown>;
    if (typeof r.enabled !== 'boolean') fail(`${path}.enabled`, 'must be true or false');
    if (!Number.isInteger(r.windowMinutes) || (r.windowMinutes as number) < 1 || (r.windowMinutes as number) > 24 * 60) fail(`${path}.windowMinutes`, 'must be 1-1440');
    return { enabled: r.enabled as boolean, windowMinutes: r.windowMinutes as number };
  };
  const shops: Record<string, MergeRule> = {};
  for (const [shop, r] of Object.entries((d.shops ?? {}) as Record<string, unknown>)) shops[shop] = rule(r, `shops.${shop}`);
  return { version: d.version as string, default: rule(d.default, 'default'), shops };
}

/**
 * The merge group of an order: same shop, same buyer, same address (normalised: case and
 * whitespace do not split a group). Orders of different groups are never merged.
 */
export function mergeGroupOf(o: { shopId: string; buyerId: string; address: { province: string; city: string; district?: string; street: string; detail?: string; recipient: string; phone: string } }): string {
  const norm = (s: string | undefined) => (s ?? '').replace(/\s+/g, '').toLowerCase();
  const a = o.address;
  return [o.shopId, norm(o.buyerId), norm(a.province), norm(a.city), norm(a.district), norm(a.street), norm(a.detail), norm(a.recipient), norm(a.phone)].join('|');
}

/**
 * The merge group of a StartFulfillment: shop, the buyer and address keys order-intake hashed,
 * and the warehouse (orders allocated to different warehouses can never share a box).
 */
export function mergeGroupKeyOf(o: { shopId: string; buyerKey: string; addressKey: string; warehouseId: string }): string {
  return [o.shopId, o.buyerKey, o.addressKey, o.warehouseId].join('|');
}

export interface MergeLine {
  lineId: string;
  sku: string;
  quantity: number;
}

export type MergeCommand =
  | { type: 'OfferOrderForMerge'; groupKey: string; orderId: string; shopId: string; lines: MergeLine[]; rule: MergeRule & { version: string }; at: string }
  | { type: 'SealMergeParcel'; parcelId: string; reason: 'window_closed' | 'packing'; at: string }
  /** A person releases the box for picking before its window ends (no order joins it after that). */
  | { type: 'ReleaseMergeParcel'; parcelId: string; by: { id: string; role?: string }; reason: string; at: string }
  | { type: 'RemoveMergedOrder'; orderId: string; reason: string; at: string }
  | { type: 'MarkMergeParcelPacked'; parcelId: string; at: string; carrierChoice?: CarrierChoice };

export type MergeEvent =
  | { type: 'MergeParcelOpened'; data: { groupKey: string; parcelId: string; shopId: string; windowEndsAt: string; ruleVersion: string; at: string } }
  | { type: 'OrderJoinedMergeParcel'; data: { parcelId: string; orderId: string; lines: MergeLine[]; ruleVersion: string; at: string } }
  | { type: 'OrderNotMerged'; data: { orderId: string; reason: 'merge_disabled'; ruleVersion: string; at: string } }
  | { type: 'MergeParcelSealed'; data: { parcelId: string; reason: 'window_closed' | 'packing' | 'released'; orderIds: string[]; at: string; by?: { id: string; role?: string }; note?: string } }
  | { type: 'OrderLeftMergeParcel'; data: { parcelId: string; orderId: string; lines: MergeLine[]; reason: string; at: string } }
  | { type: 'MergeParcelEmptied'; data: { parcelId: string; at: string } }
  | { type: 'MergeParcelPacked'; data: { parcelId: string; orderIds: string[]; at: string; carrierChoice?: CarrierChoice } };

export type MergeParcelStatus = 'open' | 'sealed' | 'packed' | 'empty';

export interface MergeParcel {
  parcelId: string;
  status: MergeParcelStatus;
  windowEndsAt: string;
  /** Orders in the parcel with their lines, in joining order. */
  orders: { orderId: string; lines: MergeLine[] }[];
  /** The box's carrier, chosen again at packing from its orders together (weight, amount), with rule id and version. */
  carrierChoice?: CarrierChoice;
}

export interface MergeGroupState {
  groupKey: string | null;
  parcels: MergeParcel[];
  /** Every order ever offered -> its parcel (null: not merged), so a repeated offer is a no-op. */
  placed: Record<string, string | null>;
}

export const MergeErrorCode = {
  ParcelNotFound: 'MERGE_PARCEL_NOT_FOUND',
  OrderNotInParcel: 'MERGE_ORDER_NOT_IN_PARCEL',
  ParcelPacked: 'MERGE_PARCEL_PACKED',
  WrongGroup: 'MERGE_WRONG_GROUP',
  WindowOpen: 'MERGE_WINDOW_OPEN',
} as const;

/**
 * May the warehouse pick (scan, pack) a merged box at `at`? Only once no order can join it any
 * more: its window has ended, or it was sealed (released by a person, or sealed earlier). An open
 * box inside its window is not offered: picking it would ship it without the orders still to come.
 */
export function mergeParcelPickable(p: Pick<MergeParcel, 'status' | 'windowEndsAt'>, at: string): boolean {
  return p.status !== 'open' || Date.parse(at) >= Date.parse(p.windowEndsAt);
}

/** Refuses a warehouse action on a box still open for orders to join (MERGE_WINDOW_OPEN, 409, naming when it ends). */
export function assertMergeParcelPickable(p: Pick<MergeParcel, 'parcelId' | 'status' | 'windowEndsAt'>, at: string): void {
  if (mergeParcelPickable(p, at)) return;
  throw refuse(MergeErrorCode.WindowOpen, `merged parcel ${p.parcelId} waits for orders to join until ${p.windowEndsAt}: release it to pick it now`, { parcelId: p.parcelId, windowEndsAt: p.windowEndsAt });
}

export const mergeStream = (groupKey: string): string => `merge-${groupKey}`;
/** Parcel ids are derived from the group and its rank, so a redelivered offer names the same parcel. */
export const mergeParcelIdOf = (state: MergeGroupState, shopId: string): string => `MRG-${shopId}-${state.parcels.length + 1}-${hash(state.groupKey ?? '')}`;

/** Two 32-bit FNV-1a passes (different offsets): 64 bits, so two groups of one shop do not share parcel ids. */
function hash(s: string): string {
  const fnv = (seed: number) => {
    let h = seed;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
    return h.toString(36).padStart(7, '0');
  };
  return fnv(2166136261) + fnv(0x811c9dc5 ^ 0x5bd1e995);
}

/** A member of a merged parcel as the warehouse scans it: its order's parcel, lines and what is in the box already. */
export interface MergeMember {
  orderId: string;
  shipmentId: string;
  lines: { sku: string; quantity: number }[];
  scanned: Record<string, number>;
}

/**
 * Where the units of one scan on a merged parcel go: to the orders that still need the SKU, in
 * joining order. Refused like a scan on one parcel: a SKU no order of the parcel has
 * (`SCAN_WRONG_SKU`, naming the expected SKUs), more units than the orders still need
 * (`SCAN_QUANTITY_EXCEEDED`).
 */
export function allocateScan(parcelId: string, members: readonly MergeMember[], sku: string, quantity: number): { orderId: string; shipmentId: string; quantity: number }[] {
  if (!Number.isInteger(quantity) || quantity < 1) throw new DomainError('SCAN_INVALID_QUANTITY', 'quantity must be a positive integer', { field: 'quantity', quantity }, 'invalid');
  const need = (m: MergeMember) => m.lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0) - (m.scanned[sku] ?? 0);
  const expected = [...new Set(members.flatMap((m) => m.lines.map((l) => l.sku)))];
  if (!expected.includes(sku)) {
    throw refuse('SCAN_WRONG_SKU', `wrong item: ${sku} is not in merged parcel ${parcelId} (expected ${expected.join(', ')})`, { shipmentId: parcelId, sku, expected });
  }
  const open = members.reduce((n, m) => n + Math.max(0, need(m)), 0);
  if (quantity > open) {
    const required = members.reduce((n, m) => n + m.lines.filter((l) => l.sku === sku).reduce((a, l) => a + l.quantity, 0), 0);
    throw refuse('SCAN_QUANTITY_EXCEEDED', `too many ${sku}: merged parcel ${parcelId} needs ${required}, ${required - open} already scanned, ${quantity} more scanned`, {
      shipmentId: parcelId,
      sku,
      required,
      scanned: required - open,
      quantity,
    });
  }
  const out: { orderId: string; shipmentId: string; quantity: number }[] = [];
  let left = quantity;
  for (const m of members) {
    const take = Math.min(left, Math.max(0, need(m)));
    if (take > 0) out.push({ orderId: m.orderId, shipmentId: m.shipmentId, quantity: take });
    left -= take;
  }
  return out;
}

/** All lines of a parcel (the pick and pack list of the merged parcel), order by order. */
export function parcelLines(p: MergeParcel): (MergeLine & { orderId: string })[] {
  return p.orders.flatMap((o) => o.lines.map((l) => ({ ...l, orderId: o.orderId })));
}

const refuse = (code: string, message: string, details: Record<string, unknown>) => new DomainError(code, message, details, 'conflict');

function decide(c: MergeCommand, s: MergeGroupState): MergeEvent[] {
  switch (c.type) {
    case 'OfferOrderForMerge': {
      if (s.groupKey !== null && s.groupKey !== c.groupKey) throw refuse(MergeErrorCode.WrongGroup, `order ${c.orderId} belongs to another merge group`, { orderId: c.orderId });
      if (c.orderId in s.placed) return [];
      if (!c.rule.enabled) return [{ type: 'OrderNotMerged', data: { orderId: c.orderId, reason: 'merge_disabled', ruleVersion: c.rule.version, at: c.at } }];
      const open = s.parcels.find((p) => p.status === 'open' && Date.parse(c.at) < Date.parse(p.windowEndsAt));
      const joined = (parcelId: string): MergeEvent => ({ type: 'OrderJoinedMergeParcel', data: { parcelId, orderId: c.orderId, lines: c.lines, ruleVersion: c.rule.version, at: c.at } });
      const events: MergeEvent[] = [];
      // A parcel whose window passed is sealed first: nothing joins it any more.
      for (const p of s.parcels) {
        if (p.status === 'open' && p !== open) events.push({ type: 'MergeParcelSealed', data: { parcelId: p.parcelId, reason: 'window_closed', orderIds: p.orders.map((o) => o.orderId), at: c.at } });
      }
      if (open) return [...events, joined(open.parcelId)];
      const parcelId = mergeParcelIdOf(s.groupKey === null ? { ...s, groupKey: c.groupKey } : s, c.shopId);
      const windowEndsAt = new Date(Date.parse(c.at) + c.rule.windowMinutes * 60_000).toISOString();
      return [...events, { type: 'MergeParcelOpened', data: { groupKey: c.groupKey, parcelId, shopId: c.shopId, windowEndsAt, ruleVersion: c.rule.version, at: c.at } }, joined(parcelId)];
    }
    case 'SealMergeParcel': {
      const p = parcelOf(s, c.parcelId);
      if (p.status !== 'open') return [];
      return [{ type: 'MergeParcelSealed', data: { parcelId: p.parcelId, reason: c.reason, orderIds: p.orders.map((o) => o.orderId), at: c.at } }];
    }
    case 'ReleaseMergeParcel': {
      const p = parcelOf(s, c.parcelId);
      if (p.status === 'empty') throw refuse(MergeErrorCode.ParcelNotFound, `parcel ${p.parcelId} has no orders left`, { parcelId: p.parcelId });
      if (p.status !== 'open') return [];
      return [{ type: 'MergeParcelSealed', data: { parcelId: p.parcelId, reason: 'released', orderIds: p.orders.map((o) => o.orderId), at: c.at, by: c.by, ...(c.reason ? { note: c.reason } : {}) } }];
    }
    case 'MarkMergeParcelPacked': {
      const p = parcelOf(s, c.parcelId);
      if (p.status === 'packed') return [];
      if (p.status === 'empty') throw refuse(MergeErrorCode.ParcelNotFound, `parcel ${p.parcelId} has no orders left`, { parcelId: p.parcelId });
      const sealed: MergeEvent[] = p.status === 'open' ? [{ type: 'MergeParcelSealed', data: { parcelId: p.parcelId, reason: 'packing', orderIds: p.orders.map((o) => o.orderId), at: c.at } }] : [];
      return [...sealed, { type: 'MergeParcelPacked', data: { parcelId: p.parcelId, orderIds: p.orders.map((o) => o.orderId), at: c.at, ...(c.carrierChoice ? { carrierChoice: c.carrierChoice } : {}) } }];
    }
    case 'RemoveMergedOrder': {
      const parcelId = s.placed[c.orderId];
      if (parcelId === undefined || parcelId === null) throw refuse(MergeErrorCode.OrderNotInParcel, `order ${c.orderId} is in no merged parcel`, { orderId: c.orderId });
      const p = parcelOf(s, parcelId);
      const inParcel = p.orders.find((o) => o.orderId === c.orderId);
      if (!inParcel) return []; // already taken out
      if (p.status === 'packed') throw refuse(MergeErrorCode.ParcelPacked, `parcel ${p.parcelId} is packed: stop the order through its intercept`, { parcelId: p.parcelId, orderId: c.orderId });
      const left: MergeEvent = { type: 'OrderLeftMergeParcel', data: { parcelId: p.parcelId, orderId: c.orderId, lines: inParcel.lines, reason: c.reason, at: c.at } };
      return p.orders.length === 1 ? [left, { type: 'MergeParcelEmptied', data: { parcelId: p.parcelId, at: c.at } }] : [left];
    }
    default:
      return assertNever(c, 'merge command');
  }
}

function parcelOf(s: MergeGroupState, parcelId: string): MergeParcel {
  const p = s.parcels.find((x) => x.parcelId === parcelId);
  if (!p) throw refuse(MergeErrorCode.ParcelNotFound, `no merged parcel ${parcelId}`, { parcelId });
  return p;
}

function evolve(s: MergeGroupState, e: MergeEvent): MergeGroupState {
  const update = (parcelId: string, f: (p: MergeParcel) => MergeParcel): MergeParcel[] => s.parcels.map((p) => (p.parcelId === parcelId ? f(p) : p));
  switch (e.type) {
    case 'MergeParcelOpened':
      return { ...s, groupKey: e.data.groupKey, parcels: [...s.parcels, { parcelId: e.data.parcelId, status: 'open', windowEndsAt: e.data.windowEndsAt, orders: [] }] };
    case 'OrderJoinedMergeParcel':
      return {
        ...s,
        parcels: update(e.data.parcelId, (p) => ({ ...p, orders: [...p.orders, { orderId: e.data.orderId, lines: e.data.lines }] })),
        placed: { ...s.placed, [e.data.orderId]: e.data.parcelId },
      };
    case 'OrderNotMerged':
      return { ...s, placed: { ...s.placed, [e.data.orderId]: null } };
    case 'MergeParcelSealed':
      return { ...s, parcels: update(e.data.parcelId, (p) => ({ ...p, status: 'sealed' })) };
    case 'MergeParcelPacked':
      return { ...s, parcels: update(e.data.parcelId, (p) => ({ ...p, status: 'packed', ...(e.data.carrierChoice ? { carrierChoice: e.data.carrierChoice } : {}) })) };
    case 'OrderLeftMergeParcel':
      return { ...s, parcels: update(e.data.parcelId, (p) => ({ ...p, orders: p.orders.filter((o) => o.orderId !== e.data.orderId) })) };
    case 'MergeParcelEmptied':
      return { ...s, parcels: update(e.data.parcelId, (p) => ({ ...p, status: 'empty' })) };
    default:
      return assertNever(e, 'merge event');
  }
}

export const mergeParcelDecider: Decider<MergeGroupState, MergeCommand, MergeEvent> = {
  initialState: () => ({ groupKey: null, parcels: [], placed: {} }),
  decide,
  evolve,
};
