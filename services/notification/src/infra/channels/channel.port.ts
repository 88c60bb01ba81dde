import type { SendOutcome } from '../../domain/delivery.policy';
import type { ChannelKind } from '../../domain/notification.types';
import type { RenderedMessage } from '../../domain/templates';

/** One message for one adapter. `address` is the clear address (phone, open id, e-mail, robot name). */
export interface OutgoingMessage {
  notificationId: string;
  channel: ChannelKind;
  address: string;
  locale: string;
  message: RenderedMessage;
}

/** The one port every channel adapter implements. It never throws for a provider answer: it classifies it. */
export interface ChannelAdapter {
  readonly channel: ChannelKind;
  send(message: OutgoingMessage): Promise<SendOutcome>;
}

/** Network failures and timeouts: transient. */
export function networkFailure(e: unknown): SendOutcome {
  const err = e as { name?: string; message?: string; cause?: { code?: string } };
  return { ok: false, transient: true, code: err.cause?.code ?? (err.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK'), message: err.message ?? String(e) };
}

/** HTTP status classification shared by the adapters: 429 and 5xx are worth retrying, other 4xx are not. */
export function httpStatusTransient(status: number): boolean {
  return status === 429 || status >= 500;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; json: Record<string, unknown> | null; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}
