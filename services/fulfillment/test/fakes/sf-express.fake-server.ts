import { createHash, randomInt } from 'node:crypto';
import { postForm, startFormServer, type FakeServer } from './form-server';

/*
 * A fake of the SF Express open platform (顺丰开放平台), checking requests as SF documents them:
 * form POST /std/service with partnerID, requestID, serviceCode, timestamp, msgData and
 * msgDigest = Base64(MD5raw(URLEncoder.encode(msgData + timestamp + checkWord, "UTF-8"))).
 * Wrong partner or digest -> apiResultCode A1001/A1006 like SF. Route pushes it sends are signed
 * the same way, at most 10 routes each. Written apart from the adapter on purpose: the same
 * mistake in both would not be caught otherwise.
 */

function urlEncodeLikeJava(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function sfDigest(msgData: string, timestamp: string, checkWord: string): string {
  return createHash('md5').update(urlEncodeLikeJava(msgData + timestamp + checkWord)).digest('base64');
}

export interface SfFake extends FakeServer {
  partnerId: string;
  checkWord: string;
  waybills: string[];
  /** Pushes routes of a waybill to a callback URL, signed (or tampered after signing). */
  pushRoutes(callbackUrl: string, routes: { mailno: string; opCode: string; remark: string; acceptTime: string }[], tamper?: boolean): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function startSfExpressFake(options: { port?: number; partnerId?: string; checkWord?: string } = {}): Promise<SfFake> {
  const partnerId = options.partnerId ?? 'FLOWLINE_DEMO';
  const checkWord = options.checkWord ?? 'sf-demo-check-word';
  const waybills: string[] = [];
  // SF keeps each order by the customer's orderId: a second EXP_RECE_CREATE_ORDER with it is refused
  // 8016 重复下单, and EXP_RECE_SEARCH_ORDER_RESP gives the order's waybill back.
  const orders = new Map<string, string>();
  const ok = (requestId: string, msgData: unknown) => ({
    status: 200,
    body: { apiResultCode: 'A1000', apiErrorMsg: '', apiResponseID: requestId, apiResultData: JSON.stringify({ success: true, errorCode: 'S0000', errorMsg: null, msgData }) },
  });
  const refused = (errorCode: string, errorMsg: string) => ({ status: 200, body: { apiResultCode: 'A1000', apiResultData: JSON.stringify({ success: false, errorCode, errorMsg }) } });
  const server = await startFormServer(options.port ?? 0, (path, f) => {
    if (path !== '/std/service') return { status: 404, body: {} };
    for (const field of ['partnerID', 'requestID', 'serviceCode', 'timestamp', 'msgDigest', 'msgData']) {
      if (!f[field]) return { status: 200, body: { apiResultCode: 'A1001', apiErrorMsg: `必传参数不可为空: ${field}`, apiResponseID: '', apiResultData: null } };
    }
    if (f.partnerID !== partnerId) return { status: 200, body: { apiResultCode: 'A1001', apiErrorMsg: '未知的顾客编码', apiResponseID: '', apiResultData: null } };
    if (sfDigest(f.msgData, f.timestamp, checkWord) !== f.msgDigest) return { status: 200, body: { apiResultCode: 'A1006', apiErrorMsg: '数字签名无效', apiResponseID: '', apiResultData: null } };
    if (f.serviceCode === 'EXP_RECE_SEARCH_ORDER_RESP') {
      const q = JSON.parse(f.msgData) as { orderId?: string; searchType?: string };
      if (!q.orderId) return refused('1001', 'orderId不能为空');
      if (q.searchType !== undefined && q.searchType !== '1' && q.searchType !== '2') return refused('1001', 'searchType只能为1或2');
      const known = orders.get(q.orderId);
      if (!known) return refused('8018', '未获取到订单信息');
      return ok(f.requestID, { orderId: q.orderId, waybillNoInfoList: [{ waybillType: 1, waybillNo: known }] });
    }
    if (f.serviceCode !== 'EXP_RECE_CREATE_ORDER') return { status: 200, body: { apiResultCode: 'A1004', apiErrorMsg: '无对应服务权限', apiResponseID: '', apiResultData: null } };
    const msg = JSON.parse(f.msgData) as { orderId?: string; cargoDetails?: unknown[] };
    if (!msg.orderId) return refused('1001', 'orderId不能为空');
    if (!Array.isArray(msg.cargoDetails) || msg.cargoDetails.length === 0) return refused('1023', '托寄物品名不能为空');
    if (orders.has(msg.orderId)) return refused('8016', '重复下单');
    const waybillNo = `SF${String(randomInt(1e12, 9e12))}`;
    waybills.push(waybillNo);
    orders.set(msg.orderId, waybillNo);
    return ok(f.requestID, { orderId: msg.orderId, waybillNoInfoList: [{ waybillType: 1, waybillNo }] });
  });
  return {
    ...server,
    partnerId,
    checkWord,
    waybills,
    async pushRoutes(callbackUrl, routes, tamper = false) {
      const msgData = JSON.stringify({ Body: { WaybillRoute: routes.map((r, i) => ({ id: String(i + 1), orderid: '', acceptAddress: '杭州', reasonName: '', reasonCode: '', ...r })) } });
      const timestamp = String(Date.now());
      const msgDigest = sfDigest(msgData, timestamp, checkWord);
      return postForm(callbackUrl, { msgData: tamper ? msgData.replace(/"opCode":"\d+"/, '"opCode":"80"') : msgData, timestamp, msgDigest });
    },
  };
}
