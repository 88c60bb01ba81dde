import { createHmac } from 'node:crypto';
import type { SendOutcome } from '../../domain/delivery.policy';
import { httpStatusTransient, networkFailure, postJson, type ChannelAdapter, type OutgoingMessage } from './channel.port';

/** `sha256=` + hex HMAC-SHA256(secret, timestamp + "." + body): what a receiver recomputes. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

/**
 * Generic signed webhook: JSON body, headers `X-Flowline-Timestamp` (unix seconds),
 * `X-Flowline-Signature` and `X-Flowline-Delivery` (the notification id, for the receiver's dedup).
 * `address` names the target (an env variable holding the URL; its secret in `<name>_SECRET`).
 */
export class WebhookAdapter implements ChannelAdapter {
  readonly channel = 'webhook' as const;
  constructor(
    private readonly targets: (name: string) => WebhookTarget | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    const target = this.targets(m.address);
    if (!target) return { ok: false, transient: false, code: 'WEBHOOK_NOT_CONFIGURED', message: `no URL/secret for webhook ${m.address}` };
    const body = JSON.stringify({ notificationId: m.notificationId, locale: m.locale, message: m.message });
    const ts = String(Math.floor(this.now() / 1000));
    try {
      const r = await postJson(target.url, body, { 'x-flowline-timestamp': ts, 'x-flowline-signature': webhookSignature(target.secret, ts, body), 'x-flowline-delivery': m.notificationId });
      if (r.status >= 200 && r.status < 300) return { ok: true, delivered: true };
      return { ok: false, transient: httpStatusTransient(r.status), code: `HTTP_${r.status}`, message: r.text.slice(0, 200) };
    } catch (e) {
      return networkFailure(e);
    }
  }
}
