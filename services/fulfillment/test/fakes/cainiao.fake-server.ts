import { createHash, randomInt } from 'node:crypto';
import { postForm, startFormServer, type FakeServer } from './form-server';

/*
 * A fake of the TOP gateway for cainiao.waybill.ii.get (菜鸟电子面单): checks the TOP system
 * parameters and the md5 signature (upper(hex(md5(secret + sorted k+v + secret)))), the session,
 * and that the recipient is the encrypted handle (oaid + tid) and nothing in clear; errors as TOP
 * sends them (code 25 invalid signature, 27 invalid session). Its LINK track pushes carry
 * logistics_interface and data_digest = Base64(MD5raw(content + secret)). Written apart from the adapter.
 */

export function topMd5Sign(params: Record<string, string>, secret: string): string {
  let s = secret;
  for (const k of Object.keys(params).sort()) if (k !== 'sign') s += k + params[k];
  return createHash('md5').update(s + secret).digest('hex').toUpperCase();
}

export interface CainiaoFake extends FakeServer {
  appKey: string;
  appSecret: string;
  session: string;
  waybills: string[];
  push(callbackUrl: string, mailNo: string, logisticsStatus: string, desc: string, tamper?: boolean): Promise<{ status: number; body: Record<string, unknown> }>;
}

const err = (code: number, msg: string, sub_code?: string, sub_msg?: string) => ({ status: 200, body: { error_response: { code, msg, ...(sub_code ? { sub_code, sub_msg } : {}), request_id: 'fake' } } });

export async function startCainiaoFake(options: { port?: number; appKey?: string; appSecret?: string; session?: string } = {}): Promise<CainiaoFake> {
  const appKey = options.appKey ?? '12345678';
  const appSecret = options.appSecret ?? 'cainiao-demo-secret';
  const session = options.session ?? 'cainiao-demo-session';
  const waybills: string[] = [];
  const issued = new Map<string, string>();
  const server = await startFormServer(options.port ?? 0, (path, f) => {
    if (!path.startsWith('/router/rest')) return { status: 404, body: {} };
    for (const field of ['method', 'app_key', 'timestamp', 'v', 'sign_method', 'sign', 'format']) if (!f[field]) return err(41, `Missing required arguments:${field}`);
    if (f.app_key !== appKey) return err(29, 'Invalid app Key');
    if (f.sign_method !== 'md5' || topMd5Sign(f, appSecret) !== f.sign) return err(25, 'Invalid signature');
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(f.timestamp)) return err(31, 'Invalid timestamp');
    if (f.session !== session) return err(27, 'Invalid session');
    if (f.method !== 'cainiao.waybill.ii.get') return err(22, 'Invalid method');
    const req = JSON.parse(f.param_waybill_cloud_print_apply_new_request ?? '{}') as {
      cp_code?: string;
      trade_order_info_dtos?: { object_id: string; order_info?: { trade_order_list?: string[] }; package_info?: { id?: string }; recipient?: Record<string, unknown> }[];
    };
    const dtos = req.trade_order_info_dtos ?? [];
    if (!req.cp_code || dtos.length === 0) return err(40, 'Missing required arguments', 'isv.missing-param', 'cp_code / trade_order_info_dtos');
    for (const d of dtos) {
      const r = d.recipient ?? {};
      if (!r.oaid || !r.tid) return err(15, 'Remote service error', 'isv.recipient-oaid-required', '收件人oaid和tid必填');
      const clear = Object.keys(r).filter((k) => k !== 'oaid' && k !== 'tid');
      if (clear.length) return err(15, 'Remote service error', 'isv.recipient-plaintext', `密文订单不可传明文: ${clear.join(',')}`);
    }
    return {
      status: 200,
      body: {
        cainiao_waybill_ii_get_response: {
          modules: {
            waybill_cloud_print_response: dtos.map((d) => {
              // Cainiao gives the same waybill again for the same carrier, trade orders and package id.
              const key = `${req.cp_code}|${(d.order_info?.trade_order_list ?? []).join(',')}|${d.package_info?.id ?? ''}`;
              const known = issued.get(key);
              const waybill_code = known ?? `${req.cp_code}${String(randomInt(1e11, 9e11))}`;
              if (!known) {
                issued.set(key, waybill_code);
                waybills.push(waybill_code);
              }
              return { object_id: d.object_id, waybill_code, print_data: JSON.stringify({ encryptedData: 'fake', templateURL: 'https://cloudprint.cainiao.com/template/standard/101/123' }) };
            }),
          },
          request_id: 'fake',
        },
      },
    };
  });
  return {
    ...server,
    appKey,
    appSecret,
    session,
    waybills,
    push(callbackUrl, mailNo, logisticsStatus, desc, tamper = false) {
      const time = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
      const content = JSON.stringify({ mailNo, logisticsStatus, logisticsDesc: desc, time });
      const data_digest = createHash('md5').update(content + appSecret).digest('base64');
      return postForm(callbackUrl, { msg_type: 'TRACEPUSH', logistics_interface: tamper ? content.replace(logisticsStatus, 'SIGN') : content, data_digest });
    },
  };
}
