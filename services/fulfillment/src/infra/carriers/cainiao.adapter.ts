import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';
import type { CarrierPort, CarrierUpdate, WaybillRequest } from '../../application/carrier.port';

/**
 * Cainiao e-waybill (菜鸟电子面单) through the TOP gateway: `cainiao.waybill.ii.get`, signed the
 * TOP way (sign_method md5: upper(hex(MD5(secret + k1v1k2v2... sorted by key + secret)))).
 * Encrypted recipients travel as oaid + tid and are never decrypted here. Track pushes (菜鸟 LINK)
 * carry `logistics_interface` and data_digest = Base64(MD5raw(logistics_interface + secret)).
 */
export interface CainiaoConfig {
  gatewayUrl: string;
  appKey: string;
  appSecret: string;
  /** Seller's authorised session key. */
  session: string;
  /** Carrier behind the waybill (cp_code), e.g. ZTO, YTO, STO. */
  cpCode: string;
  templateUrl: string;
  sender: { name: string; mobile: string; address: { province: string; city: string; district: string; detail: string } };
}

export function topSign(params: Record<string, string>, secret: string): string {
  const joined = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join('');
  return createHash('md5').update(secret + joined + secret, 'utf8').digest('hex').toUpperCase();
}

export function cainiaoDataDigest(content: string, secret: string): string {
  return createHash('md5').update(content + secret, 'utf8').digest('base64');
}

/** TOP timestamps are Beijing time, "yyyy-MM-dd HH:mm:ss". */
export function topTimestamp(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

const LINK_STATES: Record<string, CarrierUpdate['state']> = {
  ACCEPT: 'picked_up',
  TRANSPORT: 'in_transit',
  DELIVERING: 'out_for_delivery',
  SIGN: 'delivered',
  FAILED: 'problem',
  REJECT: 'returning',
  RETURN_SIGN: 'returned',
};

/** Verifies and reads a LINK track push (form fields logistics_interface, data_digest). */
export function parseCainiaoPush(form: Record<string, string | undefined>, secret: string): CarrierUpdate | null {
  const content = form.logistics_interface;
  const digest = form.data_digest;
  if (!content || !digest) throw new DomainError('CARRIER_CALLBACK_INVALID', 'Cainiao push needs logistics_interface and data_digest', { field: 'data_digest' }, 'invalid');
  if (cainiaoDataDigest(content, secret) !== digest) throw new DomainError('CARRIER_SIGNATURE_INVALID', 'Cainiao push: data_digest does not match', { carrier: 'CAINIAO' }, 'invalid');
  const body = JSON.parse(content) as { mailNo: string; logisticsStatus: string; logisticsDesc: string; time: string };
  const state = LINK_STATES[body.logisticsStatus];
  return state ? { trackingNumber: body.mailNo, state, description: body.logisticsDesc, at: new Date(`${body.time.replace(' ', 'T')}+08:00`).toISOString() } : null;
}

export class CainiaoCarrier implements CarrierPort {
  readonly code = 'CAINIAO';

  constructor(
    private readonly config: CainiaoConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async createWaybill(request: WaybillRequest): Promise<{ waybillNo: string }> {
    const r = request.recipient;
    if (!r?.oaid || !r.tid) {
      throw new DomainError('CARRIER_RECIPIENT_MISSING', 'Cainiao waybills of platform orders need the encrypted recipient (oaid + tid)', { field: 'recipient.oaid' }, 'invalid');
    }
    const apply = {
      cp_code: this.config.cpCode,
      sender: { name: this.config.sender.name, mobile: this.config.sender.mobile, address: this.config.sender.address },
      trade_order_info_dtos: [
        {
          object_id: request.shipmentId,
          order_info: { order_channels_type: 'TB', trade_order_list: [r.tid] },
          package_info: { id: request.shipmentId, items: request.lines.map((l) => ({ name: l.sku, count: l.quantity })) },
          // Only the platform's encrypted handle: Cainiao prints the decrypted receiver, we never see it.
          recipient: { oaid: r.oaid, tid: r.tid },
          template_url: this.config.templateUrl,
          user_id: 0,
        },
      ],
    };
    const params: Record<string, string> = {
      method: 'cainiao.waybill.ii.get',
      app_key: this.config.appKey,
      session: this.config.session,
      timestamp: topTimestamp(this.now()),
      format: 'json',
      v: '2.0',
      sign_method: 'md5',
      param_waybill_cloud_print_apply_new_request: JSON.stringify(apply),
    };
    params.sign = topSign(params, this.config.appSecret);
    const res = await fetch(this.config.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as {
      error_response?: { code: number; msg: string; sub_code?: string; sub_msg?: string };
      cainiao_waybill_ii_get_response?: { modules: { waybill_cloud_print_response: { object_id: string; waybill_code: string }[] } };
    };
    if (body.error_response) {
      const e = body.error_response;
      throw new DomainError('CARRIER_REFUSED', `Cainiao refused: ${e.code} ${e.msg}${e.sub_msg ? ` (${e.sub_msg})` : ''}`, { carrier: 'CAINIAO', code: e.sub_code ?? String(e.code) });
    }
    const printed = body.cainiao_waybill_ii_get_response?.modules.waybill_cloud_print_response.find((m) => m.object_id === request.shipmentId);
    if (!printed) throw new DomainError('CARRIER_REFUSED', 'Cainiao returned no waybill for the parcel', { carrier: 'CAINIAO' });
    return { waybillNo: printed.waybill_code };
  }
}
