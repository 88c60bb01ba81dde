import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';
import type { CarrierUpdate } from '../../application/carrier.port';

/**
 * Kuaidi100 (快递100) tracking subscription. Subscribe: form POST `<url>/poll` with schema=json
 * and param={company, number, key, parameters: {callbackurl, salt, resultv2}}. Callbacks: form
 * POST with `param` (JSON) and sign = upper(MD5(param + salt)); answered
 * {result: true, returnCode: '200', message: '成功'}. status `abort` means Kuaidi100 stopped
 * following the number: subscribe again.
 */
export interface Kuaidi100Config {
  url: string;
  key: string;
  salt: string;
  /** Public URL of this service's callback (POST /api/fulfillment/callbacks/kuaidi100). */
  callbackUrl: string;
}

export function kuaidi100Sign(param: string, salt: string): string {
  return createHash('md5').update(param + salt, 'utf8').digest('hex').toUpperCase();
}

/** Kuaidi100 state codes -> Flowline carrier states. */
const STATES: Record<string, CarrierUpdate['state']> = {
  '0': 'in_transit',
  '1': 'picked_up',
  '2': 'problem',
  '3': 'delivered',
  '4': 'returned',
  '5': 'out_for_delivery',
  '6': 'returning',
  '7': 'in_transit',
};

export const kuaidi100Reply = (ok: boolean, message = ok ? '成功' : 'rejected') => ({ result: ok, returnCode: ok ? '200' : '500', message });

export interface Kuaidi100Callback {
  status: string;
  /** Kuaidi100 stopped following the number (abort): subscribe again. */
  resubscribe: { company: string; number: string } | null;
  update: CarrierUpdate | null;
}

/** Verifies and reads a callback (form fields param, sign). Throws a DomainError (invalid) on a bad sign. */
export function parseKuaidi100Callback(form: Record<string, string | undefined>, salt: string): Kuaidi100Callback {
  const { param, sign } = form;
  if (!param || !sign) throw new DomainError('CARRIER_CALLBACK_INVALID', 'Kuaidi100 callback needs param and sign', { field: 'sign' }, 'invalid');
  if (kuaidi100Sign(param, salt) !== sign) throw new DomainError('CARRIER_SIGNATURE_INVALID', 'Kuaidi100 callback: sign does not match', { carrier: 'kuaidi100' }, 'invalid');
  const body = JSON.parse(param) as {
    status: string;
    lastResult?: { state: string; com: string; nu: string; data?: { context: string; ftime?: string; time?: string }[] };
  };
  const last = body.lastResult;
  const resubscribe = body.status === 'abort' && last ? { company: last.com, number: last.nu } : null;
  const latest = last?.data?.[0];
  const state = last ? STATES[last.state] : undefined;
  const update =
    last && state && latest
      ? { trackingNumber: last.nu, state, description: latest.context, at: new Date(`${(latest.ftime ?? latest.time ?? '').replace(' ', 'T')}+08:00`).toISOString() }
      : null;
  return { status: body.status, resubscribe, update };
}

export class Kuaidi100Tracking {
  constructor(private readonly config: Kuaidi100Config) {}

  /** Asks Kuaidi100 to push the tracking of a number to our callback. */
  async subscribe(company: string, number: string): Promise<void> {
    const param = JSON.stringify({ company, number, key: this.config.key, parameters: { callbackurl: this.config.callbackUrl, salt: this.config.salt, resultv2: '1' } });
    const res = await fetch(`${this.config.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: new URLSearchParams({ schema: 'json', param }).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { result: boolean; returnCode: string; message: string };
    // 501: already subscribed (a repeat is fine).
    if (!body.result && body.returnCode !== '501') {
      throw new DomainError('CARRIER_REFUSED', `Kuaidi100 subscription refused: ${body.returnCode} ${body.message}`, { carrier: 'kuaidi100', code: body.returnCode });
    }
  }
}
