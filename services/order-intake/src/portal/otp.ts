import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * One-time codes and the customer's identity, as pure functions of a server secret. Nothing here
 * stores or logs a code: the database keeps `codeHash` only, events and Kafka never see either.
 */

/** A phone as digits: `+86 138-0000-1234` and `13800001234` are one customer. */
export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[^\d]/g, '');
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits;
}

const mac = (secret: string, label: string, value: string) => createHmac('sha256', secret).update(`${label}\u0000${value}`).digest('base64url');

/** The stable customer id of a phone (`sub` of customer tokens): an HMAC, never the number. */
export function customerIdOf(secret: string, phone: string): string {
  return `cus_${mac(secret, 'customer', normalizePhone(phone)).slice(0, 32)}`;
}

/** What is stored for a code: bound to the order, so a hash is useless for any other order. */
export function codeHashOf(secret: string, orderId: string, code: string): string {
  return mac(secret, 'otp', `${orderId}\u0000${code}`);
}

/** Six digits from the CSPRNG (leading zeros kept). */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Constant-time comparison of two base64url MACs. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The stored challenge of one order, after this attempt was counted. */
export interface CountedChallenge {
  customerId: string;
  codeHash: string;
  expiresAt: string;
  /** Attempts including this one. */
  attempts: number;
}

export type AttemptVerdict = { ok: true } | { ok: false; reason: 'no_challenge' | 'locked' | 'expired' | 'wrong'; lockNow: boolean };

/**
 * Decides one attempt. `maxAttempts` tries are allowed; the try after them is refused even with
 * the right code (the challenge is locked), and the last wrong allowed try locks it.
 * The reason is for logs and metrics only: the client gets one answer for all of them.
 */
export function judgeAttempt(c: CountedChallenge | undefined, given: { customerId: string; codeHash: string }, nowMs: number, maxAttempts: number): AttemptVerdict {
  if (!c) return { ok: false, reason: 'no_challenge', lockNow: false };
  if (c.attempts > maxAttempts) return { ok: false, reason: 'locked', lockNow: false };
  if (Date.parse(c.expiresAt) <= nowMs) return { ok: false, reason: 'expired', lockNow: false };
  const right = sameMac(c.customerId, given.customerId) && sameMac(c.codeHash, given.codeHash);
  if (right) return { ok: true };
  return { ok: false, reason: 'wrong', lockNow: c.attempts >= maxAttempts };
}
