import { serviceTokenSourceFromEnv, type ClientCredentialsTokenSource } from '@flowline/auth';

/** Sends one text to one phone; the port the portal uses (a fake in unit tests, notification in the service). */
export interface PortalSmsSender {
  send(phone: string, text: string, ref: { orderId: string; purpose: 'portal-otp' }): Promise<void>;
}

/**
 * Through notification's `POST /api/one-time-messages`, with order-intake's client-credentials
 * token (svc-order-intake). notification sends it straight through its SMS adapter: no
 * notification row, no event, nothing on Kafka carries the code.
 */
export class NotificationSmsSender implements PortalSmsSender {
  private readonly tokens: ClientCredentialsTokenSource | undefined;

  constructor(
    private readonly notificationUrl: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.tokens = serviceTokenSourceFromEnv('order-intake', env);
  }

  async send(phone: string, text: string, ref: { orderId: string; purpose: 'portal-otp' }): Promise<void> {
    const post = async () =>
      fetch(`${this.notificationUrl}/api/one-time-messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.tokens ? await this.tokens.headers() : {}) },
        body: JSON.stringify({ channel: 'sms', phone, text, purpose: ref.purpose, orderId: ref.orderId }),
        signal: AbortSignal.timeout(15_000),
      });
    let res = await post();
    if (res.status === 401 && this.tokens) {
      // The issuer's keys rotated or the cached token was revoked: one fresh token, one retry.
      this.tokens.invalidate();
      res = await post();
    }
    if (!res.ok) throw new Error(`notification refused the one-time message: ${res.status} ${(await res.text()).slice(0, 200)}`);
  }
}
