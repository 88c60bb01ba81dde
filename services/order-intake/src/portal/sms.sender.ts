import { serviceFetch, serviceTokenSourceFromEnv, type ClientCredentialsTokenSource } from '@flowline/auth';

/** Sends one text to one phone; the port the portal uses (a fake in unit tests, notification in the service). */
export interface PortalSmsSender {
  send(phone: string, text: string, ref: { orderId: string; purpose: 'portal-otp' }): Promise<void>;
}

/** Waits before each further try of a one-time message that failed for a passing reason. */
export const SMS_RETRY_DELAYS_MS: readonly number[] = [1_000, 3_000];

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
    private readonly retryDelaysMs: readonly number[] = SMS_RETRY_DELAYS_MS,
  ) {
    this.tokens = serviceTokenSourceFromEnv('order-intake', env);
  }

  async send(phone: string, text: string, ref: { orderId: string; purpose: 'portal-otp' }): Promise<void> {
    const post = () =>
      serviceFetch(this.tokens, `${this.notificationUrl}/api/one-time-messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'sms', phone, text, purpose: ref.purpose, orderId: ref.orderId }),
        timeoutMs: 15_000,
      });
    // The customer waits for this text: a moment of trouble (notification restarting or busy, a
    // connection cut) is tried again after 1 s and 3 s. A refusal (4xx, or 502: the SMS provider
    // refused) is final; a code sent twice is the same code.
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: string;
      try {
        // A 401 is tried once more with a fresh token (serviceFetch).
        res = await post();
        if (res.ok) return;
        failure = `notification refused the one-time message: ${res.status} ${(await res.text()).slice(0, 200)}`;
      } catch (error) {
        failure = `notification not reached: ${(error as Error).message}`;
      }
      const transient = res === undefined || res.status === 429 || res.status === 500 || res.status === 503 || res.status === 504;
      if (!transient || attempt >= this.retryDelaysMs.length) throw new Error(failure);
      await new Promise((r) => setTimeout(r, this.retryDelaysMs[attempt]));
    }
  }
}
