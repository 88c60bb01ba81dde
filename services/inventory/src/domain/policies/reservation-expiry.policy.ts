/**
 * Reserve-on-placement holds units for an unpaid order until an expiry; these pure functions say
 * which holds are due. The service's expiry sweeper passes "now" in.
 */

/** True when an expiry time is at or before `now` (both ISO-8601). */
export function isDue(expiresAt: string, now: string): boolean {
  return Date.parse(expiresAt) <= Date.parse(now);
}

export interface ExpiringReservation {
  orderId: string;
  status: string;
  expiresAt?: string;
}

/** Orders whose open reservation is due at `now`, earliest first. */
export function dueExpiries(reservations: readonly ExpiringReservation[], now: string): string[] {
  return reservations
    .filter((r): r is ExpiringReservation & { expiresAt: string } => r.status === 'reserved' && !!r.expiresAt && isDue(r.expiresAt, now))
    .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt) || (a.orderId < b.orderId ? -1 : 1))
    .map((r) => r.orderId);
}

/** When the next open reservation falls due (to schedule the sweeper), or undefined. */
export function nextExpiry(reservations: readonly ExpiringReservation[]): string | undefined {
  let next: string | undefined;
  for (const r of reservations) {
    if (r.status !== 'reserved' || !r.expiresAt) continue;
    if (next === undefined || Date.parse(r.expiresAt) < Date.parse(next)) next = r.expiresAt;
  }
  return next;
}

/** `now` plus a hold period in minutes, as ISO (for reserve-on-placement requests built at the edge). */
export function expiryAfter(now: string, holdMinutes: number): string {
  return new Date(Date.parse(now) + holdMinutes * 60_000).toISOString();
}
