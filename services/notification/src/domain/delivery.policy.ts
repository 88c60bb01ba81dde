/** What an adapter reports for one send. */
export type SendOutcome =
  | { ok: true; providerMessageId?: string; /** The provider confirmed delivery synchronously (robots, webhooks). */ delivered?: boolean }
  | { ok: false; transient: boolean; code: string; message: string };

export interface RetryPolicy {
  maxAttempts: number;
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, initialMs: 2_000, maxMs: 5 * 60_000 };

/** What happens to a notification after an attempt (pure; `now` and the attempt number come in). */
export type AttemptDecision =
  | { status: 'sent' | 'delivered'; providerMessageId?: string }
  | { status: 'retry'; nextAttemptAt: string; code: string; message: string }
  | { status: 'failed'; code: string; message: string }
  | { status: 'dead'; code: string; message: string };

/** Exponential backoff: initial * 2^(attempt-1), capped. No jitter here: the caller's `now` differs per instance anyway. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Transient errors are retried with backoff until `maxAttempts`, then dead-lettered with the last
 * reason; permanent ones (no subscription left, bad number, refused signature) fail at once.
 */
export function decideAfterAttempt(outcome: SendOutcome, attempt: number, nowIso: string, policy: RetryPolicy): AttemptDecision {
  if (outcome.ok) return { status: outcome.delivered ? 'delivered' : 'sent', ...(outcome.providerMessageId ? { providerMessageId: outcome.providerMessageId } : {}) };
  if (!outcome.transient) return { status: 'failed', code: outcome.code, message: outcome.message };
  if (attempt >= policy.maxAttempts) return { status: 'dead', code: outcome.code, message: `gave up after ${attempt} attempts: ${outcome.message}` };
  return { status: 'retry', nextAttemptAt: new Date(Date.parse(nowIso) + backoffMs(attempt, policy)).toISOString(), code: outcome.code, message: outcome.message };
}
