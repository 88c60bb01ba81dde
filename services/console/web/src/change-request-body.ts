/**
 * What the change-request form sends to approval's `POST /api/change-requests`: only what the user
 * changed. Plain data (no React), so a unit test holds it (services/console/src/change-request-body.spec.ts).
 *
 * The order's street, recipient and phone reach the console masked (`文三******`, `张*`, `138****5678`).
 * A masked value is never a value to send: approving it would overwrite the customer's real address
 * with asterisks. So the form shows the masked address as read-only context, and an address change
 * carries a street the user typed in clear (as `street`; `streetMasked` is the deprecated name).
 */

/** The order's address as order-intake shows it to staff (masked beyond the district). */
export interface MaskedAddress {
  province: string;
  city: string;
  district: string;
  streetMasked?: string;
  recipientMasked?: string;
  phoneMasked?: string;
  postalCode?: string;
}

export interface ChangeDraft {
  quantities?: Record<string, number | null | undefined>;
  removed?: Record<string, boolean | undefined>;
  /** The user chose to change the address: the fields below are then the new address. */
  changeAddress?: boolean;
  province?: string;
  city?: string;
  district?: string;
  /** The new street, typed in clear (never pre-filled: the order only shows it masked). */
  street?: string;
  detail?: string;
  postalCode?: string;
  /** Sent only when typed: the order keeps its own recipient / phone otherwise. */
  recipient?: string;
  phone?: string;
  note?: string;
  /** A general manager's reason to let the change through the packing freeze (特批). */
  overrideReason?: string;
}

export interface ChangeRequestBody {
  orderId: string;
  removeLineIds?: string[];
  quantities?: { lineId: string; quantity: number }[];
  shippingAddress?: { province: string; city: string; district: string; street: string; detail?: string; postalCode?: string; recipient?: string; phone?: string };
  note?: string;
  override?: { reason: string };
}

/** A masking character (asterisk, full-width asterisk, bullet): such a value is the masked one, not an address. */
export const looksMasked = (value: string): boolean => /[*＊•●]/.test(value);

/** Digits, spaces, dashes and an optional leading +, as approval takes a phone (contracts' CLEAR_PHONE). */
export const CLEAR_PHONE = /^\+?[0-9 -]{5,20}$/;

const text = (v: string | undefined): string => (v ?? '').trim();

/**
 * The request body for the draft. Throws when the draft would send a masked value (the form's own
 * validation refuses it first; this is the last guard before the wire).
 */
export function changeRequestBody(
  order: { orderId: string; lines: { lineId: string; quantity: number }[] },
  d: ChangeDraft,
  opts: { mayOverride: boolean },
): ChangeRequestBody {
  const removeLineIds = order.lines.filter((l) => d.removed?.[l.lineId]).map((l) => l.lineId);
  const quantities = order.lines
    .filter((l) => !d.removed?.[l.lineId])
    .map((l) => ({ lineId: l.lineId, quantity: d.quantities?.[l.lineId], before: l.quantity }))
    .filter((q): q is { lineId: string; quantity: number; before: number } => typeof q.quantity === 'number' && q.quantity !== q.before)
    .map(({ lineId, quantity }) => ({ lineId, quantity }));
  const body: ChangeRequestBody = { orderId: order.orderId };
  if (removeLineIds.length) body.removeLineIds = removeLineIds;
  if (quantities.length) body.quantities = quantities;
  if (d.changeAddress) {
    const address = { province: text(d.province), city: text(d.city), district: text(d.district), street: text(d.street) };
    const optional = { detail: text(d.detail), postalCode: text(d.postalCode), recipient: text(d.recipient), phone: text(d.phone) };
    for (const [field, value] of Object.entries({ ...address, ...optional })) {
      if (looksMasked(value)) throw new Error(`shippingAddress.${field} is masked: type it in clear`);
    }
    if (!address.province || !address.city || !address.district || !address.street) throw new Error('shippingAddress needs province, city, district and street');
    body.shippingAddress = {
      ...address,
      ...(optional.detail ? { detail: optional.detail } : {}),
      ...(optional.postalCode ? { postalCode: optional.postalCode } : {}),
      ...(optional.recipient ? { recipient: optional.recipient } : {}),
      ...(optional.phone ? { phone: optional.phone } : {}),
    };
  }
  if (text(d.note)) body.note = text(d.note);
  if (opts.mayOverride && text(d.overrideReason)) body.override = { reason: text(d.overrideReason) };
  return body;
}
