import { maskName, maskPhone, maskStreet, type AddressPatch, type AddressView, type Invoice, type InvoiceView, type OrderChangeDiff, type OrderLineView, type OrderTotals } from '@flowline/contracts';
import { ApprovalErrors } from './approval.errors';
import { DomainError } from '@flowline/domain';

/**
 * Order change requests (订单变更), pure: the diff between the order as approval last saw it
 * (from orders.events.v1) and what the requester wants, with its price difference.
 */

/** The order as the approval service knows it (a projection of orders.events.v1 and fulfillment.events.v1). */
export interface OrderSnapshot {
  orderId: string;
  channel: string;
  stage: string;
  lines: OrderLineView[];
  totals: OrderTotals;
  shippingAddress: AddressView;
  /** Shipments fulfillment reported packed (freeze on changes). */
  packedShipments: string[];
  /** The order's shop (null on a snapshot taken before approval recorded shops). */
  shopId?: string | null;
}

/**
 * A new shipping address as the requester gives it, in clear: province, city, district and
 * street are required (detail and postal code belong to it); recipient and phone stay as they are
 * on the order when absent.
 * `streetMasked` is the older name of `street` (the portal sends the street under it).
 */
export interface AddressInput {
  province: string;
  city: string;
  district: string;
  street?: string;
  streetMasked?: string;
  detail?: string;
  postalCode?: string;
  recipient?: string;
  phone?: string;
}

export interface ChangeRequestInput {
  addLines?: OrderLineView[];
  removeLineIds?: string[];
  quantities?: { lineId: string; quantity: number }[];
  shippingAddress?: AddressInput;
  /** Carrier service wanted instead (e.g. `express`). */
  shippingMethod?: string;
  invoice?: Invoice;
  note?: string;
}

/** What a change carries in clear, kept inside approval and sent only to order-intake (ApplyOrderChange). */
export interface ChangePrivate {
  shippingAddress?: AddressPatch;
  invoice?: Invoice;
}

/**
 * Masked text as Flowline and the platforms publish it in place of a street, name or phone
 * (`文三******`, `王**`, `王*`, `138****1234`): two mask characters in a row, or one closing the
 * value. No real street, detail or name holds it.
 */
const MASKED = /[*＊]{2,}|^[^*＊]+[*＊]$/;

/**
 * The clear address the order takes (refused naming the field when the street is missing, or when
 * a field holds the masked text an order view shows: sent back as the new value, it replaced the
 * customer's real street with asterisks).
 */
export function addressPatchOf(a: AddressInput): AddressPatch {
  const street = (a.street ?? a.streetMasked ?? '').trim();
  if (!street) throw ApprovalErrors.invalid('shippingAddress.street', 'required: the new street (and optionally detail, recipient, phone)');
  for (const [field, value] of [['street', street], ['detail', a.detail], ['recipient', a.recipient]] as const) {
    if (value && MASKED.test(value)) {
      throw ApprovalErrors.invalid(`shippingAddress.${field}`, `"${value}" is the masked text an order view shows; send the new ${field} in clear`);
    }
  }
  return {
    province: a.province,
    city: a.city,
    district: a.district,
    street,
    ...(a.detail ? { detail: a.detail } : {}),
    ...(a.postalCode ? { postalCode: a.postalCode } : {}),
    ...(a.recipient ? { recipient: a.recipient } : {}),
    ...(a.phone ? { phone: a.phone } : {}),
  };
}

/** The published (masked) view of a new address; recipient and phone keep the order's when not changed. */
export function addressPatchView(p: AddressPatch, before: AddressView): AddressView {
  return {
    province: p.province,
    city: p.city,
    district: p.district,
    streetMasked: maskStreet(p.street, p.detail),
    ...(p.postalCode ? { postalCode: p.postalCode } : {}),
    ...(p.recipient ? { recipientMasked: maskName(p.recipient) } : before.recipientMasked ? { recipientMasked: before.recipientMasked } : {}),
    ...(p.phone ? { phoneMasked: maskPhone(p.phone) } : before.phoneMasked ? { phoneMasked: before.phoneMasked } : {}),
  };
}

/** The published view of invoice information: a personal title (a name) masked. */
export function invoiceView(i: Invoice): InvoiceView {
  return { type: i.type, titleMasked: i.type === 'personal' ? maskName(i.title) : i.title, ...(i.taxId ? { taxId: i.taxId } : {}) };
}

/** The clear part of a request (nothing when it changes no address and no invoice). */
export function changePrivateOf(input: ChangeRequestInput): ChangePrivate {
  return { ...(input.shippingAddress ? { shippingAddress: addressPatchOf(input.shippingAddress) } : {}), ...(input.invoice ? { invoice: { ...input.invoice } } : {}) };
}

/** The diff stored with the request (the published contract's shape). */
export type ChangeDiff = OrderChangeDiff;

/** Stages in which an order may still change (not shipped, not closed). */
export const CHANGEABLE_STAGES = ['placed', 'paid', 'stock_reserved', 'awaiting_approval', 'ready_to_ship', 'packed'] as const;

export const ChangeErrorCode = {
  NotChangeable: 'CHANGE_NOT_ALLOWED',
  Frozen: 'CHANGE_FROZEN',
  OverrideNotAllowed: 'CHANGE_OVERRIDE_NOT_ALLOWED',
  Empty: 'CHANGE_EMPTY',
} as const;

const lineTotal = (l: Pick<OrderLineView, 'quantity' | 'unitPrice' | 'lineDiscount'>) => l.quantity * l.unitPrice - l.lineDiscount;

/** Validates the request against the order and computes the diff; throws a DomainError naming the field. */
export function computeChange(order: OrderSnapshot, input: ChangeRequestInput): ChangeDiff {
  if (!(CHANGEABLE_STAGES as readonly string[]).includes(order.stage)) {
    throw new DomainError(ChangeErrorCode.NotChangeable, `order ${order.orderId} is ${order.stage}: it can no longer change`, { orderId: order.orderId, stage: order.stage });
  }
  const byId = new Map(order.lines.map((l) => [l.lineId, l]));
  const removedIds = new Set(input.removeLineIds ?? []);
  for (const [i, id] of [...removedIds].entries()) if (!byId.has(id)) throw ApprovalErrors.invalid(`removeLineIds.${i}`, `no line ${id} on the order`);
  const changed: ChangeDiff['lines']['changed'] = [];
  for (const [i, q] of (input.quantities ?? []).entries()) {
    const line = byId.get(q.lineId);
    if (!line) throw ApprovalErrors.invalid(`quantities.${i}.lineId`, `no line ${q.lineId} on the order`);
    if (removedIds.has(q.lineId)) throw ApprovalErrors.invalid(`quantities.${i}.lineId`, `line ${q.lineId} is also removed`);
    if (!Number.isInteger(q.quantity) || q.quantity < 1) throw ApprovalErrors.invalid(`quantities.${i}.quantity`, 'must be a positive integer (remove the line instead)');
    if (q.quantity !== line.quantity) changed.push({ lineId: line.lineId, sku: line.sku, before: line.quantity, after: q.quantity });
  }
  const added = (input.addLines ?? []).map((l) => ({ ...l }));
  for (const [i, l] of added.entries()) if (byId.has(l.lineId) || added.findIndex((x) => x.lineId === l.lineId) !== i) throw ApprovalErrors.invalid(`addLines.${i}.lineId`, `line id ${l.lineId} is already used`);
  const removed = order.lines.filter((l) => removedIds.has(l.lineId));
  const after = [
    ...order.lines.filter((l) => !removedIds.has(l.lineId)).map((l) => ({ ...l, quantity: changed.find((c) => c.lineId === l.lineId)?.after ?? l.quantity })),
    ...added,
  ];
  if (after.length === 0) throw ApprovalErrors.invalid('removeLineIds', 'an order keeps at least one line (cancel it instead)');
  const addressAfter = input.shippingAddress ? addressPatchView(addressPatchOf(input.shippingAddress), order.shippingAddress) : undefined;
  const addressChanged = !!addressAfter && (JSON.stringify(addressAfter) !== JSON.stringify(order.shippingAddress) || !!input.shippingAddress?.recipient || !!input.shippingAddress?.phone);
  const method = input.shippingMethod?.trim();
  if (input.shippingMethod !== undefined && !method) throw ApprovalErrors.invalid('shippingMethod', 'must not be empty');
  if (input.invoice && !input.invoice.title.trim()) throw ApprovalErrors.invalid('invoice.title', 'must not be empty');
  if (!added.length && !removed.length && !changed.length && !addressChanged && !method && !input.invoice) throw new DomainError(ChangeErrorCode.Empty, 'the request changes nothing', {}, 'invalid');
  const itemsTotal = after.reduce((s, l) => s + lineTotal(l), 0);
  const totalsAfter: OrderTotals = { ...order.totals, itemsTotal, grandTotal: itemsTotal + order.totals.shippingFee - order.totals.orderDiscount };
  return {
    lines: { added, removed, changed },
    ...(addressChanged && addressAfter ? { shippingAddress: { before: order.shippingAddress, after: addressAfter } } : {}),
    ...(method ? { shippingMethod: { after: method } } : {}),
    ...(input.invoice ? { invoice: { after: invoiceView(input.invoice) } } : {}),
    totals: { before: order.totals, after: totalsAfter },
    priceDifference: totalsAfter.grandTotal - order.totals.grandTotal,
    ...(input.note ? { note: input.note } : {}),
  };
}

/**
 * The freeze after packing: a packed order refuses changes, naming the shipment, unless a general
 * manager overrides it with a reason (特批). Returns the override to record, or null when not frozen.
 */
export function freezeCheck(
  order: OrderSnapshot,
  actor: { id: string; role: string },
  override: { reason: string } | undefined,
): { shipmentIds: string[]; by: string; role: string; reason: string } | null {
  if (order.packedShipments.length === 0) return null;
  if (!override) {
    throw new DomainError(ChangeErrorCode.Frozen, `order ${order.orderId} is frozen: shipment ${order.packedShipments.join(', ')} is packed; a general manager may override`, {
      orderId: order.orderId,
      shipmentIds: order.packedShipments,
    });
  }
  if (actor.role !== 'general_manager') {
    throw new DomainError(ChangeErrorCode.OverrideNotAllowed, `only a general manager may override the freeze (actor ${actor.id} is ${actor.role})`, { role: actor.role }, 'forbidden');
  }
  if (!override.reason.trim()) throw ApprovalErrors.invalid('override.reason', 'required');
  return { shipmentIds: order.packedShipments, by: actor.id, role: actor.role, reason: override.reason.trim() };
}

/**
 * Units an applied change added to the order, held in that change's own inventory reservation
 * (`chg-<approvalId>`): `lineId` as inventory holds it (a raised quantity as `<lineId>+`),
 * `orderLineId` the order's line it belongs to.
 */
export interface ChangeHolding {
  reservationId: string;
  lineId: string;
  orderLineId: string;
  sku: string;
  quantity: number;
}

/** Units to give back from one reservation: an earlier change's (`reservationId`) or the order's own (absent). */
export interface ReleasePart {
  reservationId?: string;
  lines: { lineId: string; sku: string; quantity: number }[];
}

/**
 * Where the units a change gives up are held: the latest change that added units of the line
 * gives them back first (last in, first out), then the earlier ones, then the order's own
 * reservation gives the rest. Partial quantities split across reservations.
 */
export function planChangeRelease(units: readonly { lineId: string; sku: string; quantity: number }[], holdings: readonly ChangeHolding[]): ReleasePart[] {
  const byReservation = new Map<string, Map<string, { lineId: string; sku: string; quantity: number }>>();
  const own: ReleasePart['lines'] = [];
  const left = holdings.map((h) => ({ ...h }));
  for (const u of units) {
    let rest = u.quantity;
    for (let i = left.length - 1; i >= 0 && rest > 0; i--) {
      const h = left[i];
      if (h.orderLineId !== u.lineId || h.quantity <= 0) continue;
      const take = Math.min(rest, h.quantity);
      h.quantity -= take;
      rest -= take;
      const lines = byReservation.get(h.reservationId) ?? new Map();
      const prev = lines.get(h.lineId);
      lines.set(h.lineId, { lineId: h.lineId, sku: h.sku, quantity: (prev?.quantity ?? 0) + take });
      byReservation.set(h.reservationId, lines);
    }
    if (rest > 0) own.push({ lineId: u.lineId, sku: u.sku, quantity: rest });
  }
  return [
    ...(own.length ? [{ lines: own }] : []),
    ...[...byReservation].map(([reservationId, lines]) => ({ reservationId, lines: [...lines.values()] })),
  ];
}

/**
 * The holdings after a change was applied: what it gave back from earlier changes' reservations
 * is taken off, the units it reserved itself (its allocations, summed per line over warehouses)
 * are added at the end.
 */
export function nextHoldings(
  holdings: readonly ChangeHolding[],
  released: readonly ReleasePart[],
  added: { reservationId?: string; allocations?: readonly { lineId: string; sku: string; quantity: number }[] },
): ChangeHolding[] {
  const next = holdings.map((h) => ({ ...h }));
  for (const part of released) {
    if (!part.reservationId) continue;
    for (const l of part.lines) {
      let rest = l.quantity;
      for (let i = next.length - 1; i >= 0 && rest > 0; i--) {
        const h = next[i];
        if (h.reservationId !== part.reservationId || h.lineId !== l.lineId) continue;
        const take = Math.min(rest, h.quantity);
        h.quantity -= take;
        rest -= take;
      }
    }
  }
  const fresh: ChangeHolding[] = [];
  if (added.reservationId) {
    for (const a of added.allocations ?? []) {
      const same = fresh.find((h) => h.lineId === a.lineId);
      if (same) same.quantity += a.quantity;
      else fresh.push({ reservationId: added.reservationId, lineId: a.lineId, orderLineId: a.lineId.endsWith('+') ? a.lineId.slice(0, -1) : a.lineId, sku: a.sku, quantity: a.quantity });
    }
  }
  return [...next.filter((h) => h.quantity > 0), ...fresh];
}
