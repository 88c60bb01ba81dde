import { serviceFetch, type ClientCredentialsTokenSource } from '@flowline/auth';
import type { OrderSubmission } from '@flowline/contracts';
import { OrderCommandRefused, type OrderIntakePort, type PaymentBody, type PlacedOrder } from '../application/order-intake.port';

/**
 * order-intake over REST (its README: POST /api/orders, /payments, /cancel, /refunds, /refunds/confirm).
 * Calls carry channel-gateway's client-credentials token (`svc-channel-gateway`, issue #16); a
 * quarantine fix carries the fixing person's own token instead, so they are the order's actor.
 */
/**
 * The text of a refusal: its field violations (`field: message`) when they say something, else the
 * problem's `detail` (then `title`, the deprecated `message`, the body), naming the fields when the
 * violations name only those: a refusal is never reported as a bare `amount: `.
 */
export function refusalMessage(json: Record<string, unknown>, text: string): string {
  const errors = Array.isArray(json.errors) ? (json.errors as { field?: unknown; message?: unknown }[]) : [];
  const said = errors.filter((e) => typeof e.message === 'string' && e.message.trim() !== '').map((e) => (typeof e.field === 'string' && e.field ? `${e.field}: ${String(e.message)}` : String(e.message)));
  if (said.length) return said.join('; ');
  const first = [json.detail, json.title, json.message].find((v): v is string => typeof v === 'string' && v.trim() !== '') ?? text.slice(0, 300);
  const fields = errors.map((e) => e.field).filter((f): f is string => typeof f === 'string' && f !== '' && !first.includes(f));
  return fields.length ? `${first} (${fields.join(', ')})` : first;
}

export class OrderIntakeHttpClient implements OrderIntakePort {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
    private readonly tokens?: ClientCredentialsTokenSource,
  ) {}

  private async post(path: string, body: unknown, key: string, bearer?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}`;
    const init = { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) };
    // The person's own token as it is; else the service's, a 401 tried once more with a fresh one (serviceFetch).
    const res = bearer
      ? await fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(this.timeoutMs) })
      : await serviceFetch(this.tokens, url, { ...init, timeoutMs: this.timeoutMs });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (res.status >= 500) throw new Error(`order-intake ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    if (res.status >= 400) throw new OrderCommandRefused(res.status, String(json.code ?? `HTTP_${res.status}`), refusalMessage(json, text));
    return { status: res.status, json };
  }

  async place(submission: OrderSubmission, key: string, person?: { id: string; role?: string; bearer?: string }, payment?: PaymentBody): Promise<PlacedOrder> {
    const r = await this.post('/api/orders', payment ? { ...submission, payment } : submission, key, person?.bearer);
    const paid = r.json.payment as { amount?: unknown } | null | undefined;
    const totals = r.json.totals as { grandTotal?: unknown } | undefined;
    return { orderId: String(r.json.orderId), created: r.status === 201, paidTotal: paid ? Number(paid.amount) : null, grandTotal: Number(totals?.grandTotal) };
  }

  async confirmPayment(orderId: string, body: PaymentBody, key: string): Promise<void> {
    await this.post(`/api/orders/${encodeURIComponent(orderId)}/payments`, body, key);
  }

  async cancel(orderId: string, reason: string, key: string): Promise<void> {
    await this.post(`/api/orders/${encodeURIComponent(orderId)}/cancel`, { reason }, key);
  }

  async hold(orderId: string, reason: string, key: string): Promise<void> {
    await this.post(`/api/orders/${encodeURIComponent(orderId)}/holds`, { reason }, key);
  }

  async requestRefund(orderId: string, amount: number, reason: string, key: string): Promise<void> {
    await this.post(`/api/orders/${encodeURIComponent(orderId)}/refunds`, { amount, reason }, key);
  }

  async confirmRefund(orderId: string, amount: number, key: string): Promise<void> {
    await this.post(`/api/orders/${encodeURIComponent(orderId)}/refunds/confirm`, { amount }, key);
  }
}
