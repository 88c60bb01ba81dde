import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { namedStatement } from '@flowline/messaging';
import type { Pool } from 'pg';
import { forbiddenWebhookHost, nextAttemptAt, type RetryPolicy } from '../../domain/webhook.policy';
import { signatureHeader } from './webhook-outbox';

export interface WebhookDispatcherOptions {
  pool: Pool;
  retry: RetryPolicy;
  /** Per request; a receiver that hangs holds only its own lane this long. */
  timeoutMs: number;
  log?: (message: string) => void;
}

/** Deliveries claimed per statement: a replica that dies holds at most these for their timeouts. */
const CLAIM_CHUNK = 16;

interface Due {
  id: string;
  subscription_id: string;
  order_id: string;
  payload: string;
  attempts: number;
  created_at: Date;
}

/**
 * Delivers pending webhooks. One lane per subscription: a subscriber that is down or slow only
 * delays itself, never another subscriber nor the order flow (deliveries are written by the
 * event transaction and sent afterwards). Within a lane, an order's deliveries go one at a time
 * in the order of its events: a delivery waits until every earlier one of the same order to
 * the same subscriber was delivered. Safe on several replicas: a delivery is claimed first.
 */
export class WebhookDispatcher {
  private readonly busy = new Set<string>();
  private readonly lanes = new Set<Promise<void>>();

  constructor(private readonly o: WebhookDispatcherOptions) {}

  /** Starts a lane for every subscription with due deliveries that has none running. */
  async tick(): Promise<number> {
    // Every statement here is prepared once per connection (namedStatement): planned per call, the
    // tick and a delivery's writes cost more planning than execution (issue #10).
    const due = await this.o.pool.query<Due>(
      namedStatement(`SELECT d.id, d.subscription_id, d.order_id, d.payload, d.attempts, d.created_at
         FROM webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                           WHERE e.subscription_id = d.subscription_id AND e.order_id = d.order_id AND e.seq < d.seq AND e.status <> 'delivered')
        ORDER BY d.seq LIMIT 1000`),
    );
    const bySubscription = new Map<string, Due[]>();
    for (const d of due.rows) bySubscription.set(d.subscription_id, [...(bySubscription.get(d.subscription_id) ?? []), d]);
    for (const [sub, rows] of bySubscription) {
      if (this.busy.has(sub)) continue;
      this.busy.add(sub);
      const lane = this.runLane(sub, rows).finally(() => {
        this.busy.delete(sub);
        this.lanes.delete(lane);
      });
      this.lanes.add(lane);
    }
    return due.rows.length;
  }

  /** Waits for the lanes running now (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.lanes]);
  }

  private async runLane(subscriptionId: string, rows: Due[]): Promise<void> {
    const sub = await this.o.pool.query<{ url: string; secret: string; previous_secret: string | null; previous_valid: boolean; active: boolean }>(
      namedStatement('SELECT url, secret, previous_secret, coalesce(previous_until > now(), false) AS previous_valid, active FROM webhook_subscriptions WHERE id = $1', [subscriptionId]),
    );
    const s = sub.rows[0];
    if (!s?.active) return;
    const secrets = [s.secret, ...(s.previous_secret && s.previous_valid ? [s.previous_secret] : [])];
    // Claimed a chunk at a time (one statement, one commit), each delivery for its own timeout.
    for (let i = 0; i < rows.length; i += CLAIM_CHUNK) {
      const chunk = rows.slice(i, i + CLAIM_CHUNK);
      const claimed = await this.o.pool.query<{ id: string }>(
        namedStatement(
          `UPDATE webhook_deliveries SET claimed_until = now() + make_interval(secs => $2::double precision / 1000 + 5)
          WHERE id = ANY($1::text[]) AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
          RETURNING id`,
          [chunk.map((d) => d.id), this.o.timeoutMs * chunk.length],
        ),
      );
      const mine = new Set(claimed.rows.map((r) => r.id));
      for (const d of chunk) if (mine.has(d.id)) await this.attempt(s.url, secrets, d);
    }
  }

  private async attempt(url: string, secrets: string[], d: Due): Promise<void> {
    const started = Date.now();
    const at = new Date();
    let status: number | null = null;
    let error: string | null = null;
    try {
      // The host, and every address its name resolves to at connect time, is checked
      // (checkedLookup): the address the request goes to is the one checked. No redirects.
      status = await postWebhook(
        url,
        {
          'content-type': 'application/json',
          'webhook-id': d.id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signatureHeader(secrets, d.id, at, d.payload),
        },
        d.payload,
        this.o.timeoutMs,
      );
      if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const attempt = d.attempts + 1;
    const next = error === null ? null : nextAttemptAt(attempt, d.created_at.toISOString(), new Date().toISOString(), this.o.retry);
    const outcome = error === null ? 'delivered' : next ? 'pending' : 'failed';
    // The attempt and the delivery's new state in one statement (one round trip, one commit).
    await this.o.pool.query(
      namedStatement(
        `WITH a AS (INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5))
       UPDATE webhook_deliveries SET status = $6, attempts = $2, last_status = $3, last_error = $4,
              delivered_at = CASE WHEN $6 = 'delivered' THEN now() ELSE delivered_at END,
              next_attempt_at = coalesce($7::timestamptz, next_attempt_at), claimed_until = NULL
        WHERE id = $1`,
        [d.id, attempt, status, error, Date.now() - started, outcome, next],
      ),
    );
    if (error !== null) this.o.log?.(`webhook ${d.id} to ${url} failed (attempt ${attempt}): ${error}${next ? `; next at ${next}` : '; given up'}`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for the webhook's socket that refuses a name resolving to an address webhooks may not
 * reach (webhook.policy.ts). The socket connects to the addresses checked here, so an answer that
 * changes between a check and the connect (DNS rebinding) cannot slip through.
 */
export function checkedLookup(resolve: Resolver = dnsLookup as unknown as Resolver): Resolver {
  return (hostname, options, callback) =>
    resolve(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
      for (const a of all) {
        const why = forbiddenWebhookHost(a.address);
        if (why) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${why}`), { code: 'EWEBHOOKTARGET' }), address, family);
      }
      callback(null, address, family);
    });
}

/**
 * POSTs a webhook and answers the status code. Refused before any connection: a host that is (or
 * carries) an address webhooks may not reach; at connect time: a name resolving to one. Redirects
 * are never followed (node:http does not), and the whole exchange is bounded by `timeoutMs`.
 */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number, lookup: Resolver = checkedLookup()): Promise<number> {
  const target = new URL(url);
  const direct = forbiddenWebhookHost(target.hostname);
  if (direct) throw new Error(`refused: ${direct}`);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolveStatus, reject) => {
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup: lookup as never, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
