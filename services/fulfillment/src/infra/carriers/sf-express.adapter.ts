import { createHash } from 'node:crypto';
import { DomainError } from '@flowline/domain';
import type { CarrierPort, CarrierUpdate, WaybillRequest } from '../../application/carrier.port';

/**
 * SF Express (顺丰开放平台) adapter. Requests: form POST to `<url>/std/service` with partnerID,
 * requestID, serviceCode, timestamp, msgData and msgDigest = Base64(MD5raw(urlencode(msgData +
 * timestamp + checkWord))), urlencode as Java's URLEncoder (UTF-8, space -> '+'). Route pushes
 * come back signed the same way, at most 10 routes each, and are answered {return_code: '0000'}.
 */
export interface SfExpressConfig {
  url: string;
  partnerId: string;
  checkWord: string;
  /** Monthly account (月结卡号) the waybills are billed to. */
  monthlyCard?: string;
}

/** Java URLEncoder.encode(s, "UTF-8"): encodeURIComponent, but space is '+' and !'()~ are escaped too. */
export function javaUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sfMsgDigest(msgData: string, timestamp: string, checkWord: string): string {
  return createHash('md5').update(javaUrlEncode(msgData + timestamp + checkWord), 'utf8').digest('base64');
}

/** SF route operation codes (opCode) -> Flowline carrier states; codes not listed are informational. */
const OP_CODES: Record<string, CarrierUpdate['state']> = {
  '50': 'picked_up',
  '54': 'picked_up',
  '30': 'in_transit',
  '31': 'in_transit',
  '36': 'in_transit',
  '44': 'out_for_delivery',
  '204': 'out_for_delivery',
  '80': 'delivered',
  '8000': 'delivered',
  '33': 'problem',
  '70': 'problem',
  '648': 'returning',
  '99': 'returned',
};

export const SF_MAX_ROUTES_PER_PUSH = 10;

/** Reply SF expects to a route push. */
export const sfPushReply = (ok: boolean, message = ok ? '成功' : 'rejected') => ({ return_code: ok ? '0000' : '1000', return_msg: message });

/**
 * Verifies and reads a route push (form fields msgData, timestamp, msgDigest). Throws a DomainError
 * (invalid) for a bad signature or more than 10 routes; returns the mapped updates.
 */
export function parseSfRoutePush(form: Record<string, string | undefined>, checkWord: string): CarrierUpdate[] {
  const { msgData, timestamp, msgDigest } = form;
  if (!msgData || !timestamp || !msgDigest) throw new DomainError('CARRIER_CALLBACK_INVALID', 'SF route push needs msgData, timestamp and msgDigest', { field: 'msgDigest' }, 'invalid');
  if (sfMsgDigest(msgData, timestamp, checkWord) !== msgDigest) throw new DomainError('CARRIER_SIGNATURE_INVALID', 'SF route push: msgDigest does not match', { carrier: 'SF' }, 'invalid');
  const body = JSON.parse(msgData) as { Body?: { WaybillRoute?: { mailno: string; acceptTime: string; remark: string; opCode: string }[] } };
  const routes = body.Body?.WaybillRoute ?? [];
  if (routes.length > SF_MAX_ROUTES_PER_PUSH) throw new DomainError('CARRIER_CALLBACK_INVALID', `SF route push holds ${routes.length} routes (at most ${SF_MAX_ROUTES_PER_PUSH})`, { field: 'WaybillRoute' }, 'invalid');
  return routes.flatMap((r) => {
    const state = OP_CODES[r.opCode];
    // acceptTime is Beijing time "yyyy-MM-dd HH:mm:ss".
    return state ? [{ trackingNumber: r.mailno, state, description: r.remark, at: new Date(`${r.acceptTime.replace(' ', 'T')}+08:00`).toISOString() }] : [];
  });
}

export class SfExpressCarrier implements CarrierPort {
  readonly code = 'SF';

  constructor(
    private readonly config: SfExpressConfig,
    private readonly newId: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  /** One signed call of the SF open platform; returns apiResultData parsed. */
  async call<T>(serviceCode: string, msg: unknown): Promise<T> {
    const msgData = JSON.stringify(msg);
    const timestamp = String(this.now());
    const form = new URLSearchParams({
      partnerID: this.config.partnerId,
      requestID: this.newId(),
      serviceCode,
      timestamp,
      msgDigest: sfMsgDigest(msgData, timestamp, this.config.checkWord),
      msgData,
    });
    const res = await fetch(`${this.config.url}/std/service`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: form.toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { apiResultCode: string; apiErrorMsg?: string; apiResultData?: string };
    if (body.apiResultCode !== 'A1000') throw new DomainError('CARRIER_REFUSED', `SF ${serviceCode} refused: ${body.apiResultCode} ${body.apiErrorMsg ?? ''}`.trim(), { carrier: 'SF', code: body.apiResultCode });
    const data = JSON.parse(body.apiResultData ?? '{}') as { success: boolean; errorCode?: string; errorMsg?: string; msgData?: T };
    if (!data.success) throw new DomainError('CARRIER_REFUSED', `SF ${serviceCode} failed: ${data.errorCode ?? ''} ${data.errorMsg ?? ''}`.trim(), { carrier: 'SF', code: data.errorCode ?? null });
    return data.msgData as T;
  }

  /**
   * Books the parcel under its shipment id (SF's customer orderId). SF keeps one order per orderId:
   * a repeat (a pack retried after a crash or a timeout that SF had in fact booked) is refused 8016
   * 重复下单, and the order's waybill is read back with EXP_RECE_SEARCH_ORDER_RESP, never a second
   * booking for the same parcel.
   */
  async createWaybill(request: WaybillRequest): Promise<{ waybillNo: string }> {
    try {
      return await this.createOrder(request);
    } catch (e) {
      if (!(e instanceof DomainError && e.details.code === SF_DUPLICATE_ORDER)) throw e;
      const found = await this.call<{ waybillNoInfoList?: { waybillType: number; waybillNo: string }[] }>('EXP_RECE_SEARCH_ORDER_RESP', { language: 'zh-CN', orderId: request.shipmentId, searchType: '1' });
      return { waybillNo: mainWaybill(found.waybillNoInfoList ?? []) };
    }
  }

  private async createOrder(request: WaybillRequest): Promise<{ waybillNo: string }> {
    const out = await this.call<{ waybillNoInfoList: { waybillType: number; waybillNo: string }[] }>('EXP_RECE_CREATE_ORDER', {
      language: 'zh-CN',
      orderId: request.shipmentId,
      monthlyCard: this.config.monthlyCard ?? '',
      cargoDetails: request.lines.map((l) => ({ name: l.sku, count: l.quantity })),
      contactInfoList: request.recipient ? [{ contactType: 2, ...request.recipient }] : [],
      expressTypeId: 1,
      isReturnRoutelabel: 1,
    });
    return { waybillNo: mainWaybill(out.waybillNoInfoList) };
  }
}

/** SF's errorCode for an orderId it already holds (重复下单). */
export const SF_DUPLICATE_ORDER = '8016';

/** The parent waybill (waybillType 1) of an SF order. */
function mainWaybill(list: { waybillType: number; waybillNo: string }[]): string {
  const main = list.find((w) => w.waybillType === 1) ?? list[0];
  if (!main) throw new DomainError('CARRIER_REFUSED', 'SF returned no waybill number', { carrier: 'SF' });
  return main.waybillNo;
}
