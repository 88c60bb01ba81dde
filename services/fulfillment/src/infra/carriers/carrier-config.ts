import type { CainiaoConfig } from './cainiao.adapter';
import type { Kuaidi100Config } from './kuaidi100.adapter';
import type { SfExpressConfig } from './sf-express.adapter';

/**
 * Carrier credentials from the environment (k8s: a Secret mounted as env). A carrier is on when
 * its variables are set; half a configuration stops the boot naming what is missing, so a typo
 * does not silently leave a carrier off.
 */
export interface CarrierConfigs {
  sf: SfExpressConfig | null;
  kuaidi100: Kuaidi100Config | null;
  cainiao: CainiaoConfig | null;
}

function group<T>(env: NodeJS.ProcessEnv, name: string, vars: string[], build: (v: Record<string, string>) => T): T | null {
  const present = vars.filter((k) => env[k]?.trim());
  if (present.length === 0) return null;
  const missing = vars.filter((k) => !env[k]?.trim());
  if (missing.length) throw new Error(`${name} is half configured: set ${missing.join(', ')} (or unset ${present.join(', ')})`);
  return build(Object.fromEntries(vars.map((k) => [k, (env[k] ?? '').trim()])));
}

export function carrierConfigsFromEnv(env: NodeJS.ProcessEnv = process.env): CarrierConfigs {
  return {
    sf: group(env, 'SF Express', ['SF_EXPRESS_URL', 'SF_EXPRESS_PARTNER_ID', 'SF_EXPRESS_CHECK_WORD'], (v) => ({
      url: v.SF_EXPRESS_URL,
      partnerId: v.SF_EXPRESS_PARTNER_ID,
      checkWord: v.SF_EXPRESS_CHECK_WORD,
      ...(env.SF_EXPRESS_MONTHLY_CARD ? { monthlyCard: env.SF_EXPRESS_MONTHLY_CARD } : {}),
    })),
    kuaidi100: group(env, 'Kuaidi100', ['KUAIDI100_URL', 'KUAIDI100_KEY', 'KUAIDI100_SALT', 'KUAIDI100_CALLBACK_URL'], (v) => ({
      url: v.KUAIDI100_URL,
      key: v.KUAIDI100_KEY,
      salt: v.KUAIDI100_SALT,
      callbackUrl: v.KUAIDI100_CALLBACK_URL,
    })),
    cainiao: group(env, 'Cainiao', ['CAINIAO_GATEWAY_URL', 'CAINIAO_APP_KEY', 'CAINIAO_APP_SECRET', 'CAINIAO_SESSION', 'CAINIAO_CP_CODE'], (v) => ({
      gatewayUrl: v.CAINIAO_GATEWAY_URL,
      appKey: v.CAINIAO_APP_KEY,
      appSecret: v.CAINIAO_APP_SECRET,
      session: v.CAINIAO_SESSION,
      cpCode: v.CAINIAO_CP_CODE,
      templateUrl: env.CAINIAO_TEMPLATE_URL?.trim() || 'https://cloudprint.cainiao.com/template/standard/101/123',
      sender: {
        name: env.CAINIAO_SENDER_NAME?.trim() || '仓库发货员',
        mobile: env.CAINIAO_SENDER_MOBILE?.trim() || '13800000000',
        address: { province: '浙江省', city: '杭州市', district: '余杭区', detail: env.CAINIAO_SENDER_ADDRESS?.trim() || '仓前街道 1 号' },
      },
    })),
  };
}

/** Kuaidi100 company codes of Flowline carrier codes (SF, and Cainiao's cp_code). */
export const KUAIDI100_COMPANY: Record<string, string> = {
  SF: 'shunfeng',
  ZTO: 'zhongtong',
  YTO: 'yuantong',
  STO: 'shentong',
  YUNDA: 'yunda',
  JD: 'jd',
  EMS: 'ems',
};
