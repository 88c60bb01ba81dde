import { hasSecret, liveSecret } from '@flowline/platform';
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

/**
 * A carrier's variables: each may be given as `<NAME>_FILE` (a mounted Secret). The values are
 * read per use through getters (liveSecret), so a rotated key or check word is used from the next
 * call on, without a restart.
 */
function group<T>(env: NodeJS.ProcessEnv, name: string, vars: string[], build: (v: Record<string, string>) => T): T | null {
  const present = vars.filter((k) => hasSecret(k, env));
  if (present.length === 0) return null;
  const missing = vars.filter((k) => !hasSecret(k, env));
  if (missing.length) throw new Error(`${name} is half configured: set ${missing.join(', ')} (or unset ${present.join(', ')})`);
  const live = {} as Record<string, string>;
  for (const k of vars) Object.defineProperty(live, k, { enumerable: true, get: () => liveSecret(k, { env }) ?? '' });
  return build(live);
}

/** Copies `source`'s getters onto `target` (the config objects adapters hold keep reading per use). */
function liveFields<T extends object>(target: T, source: Record<string, () => string>): T {
  for (const [k, get] of Object.entries(source)) Object.defineProperty(target, k, { enumerable: true, get });
  return target;
}

export function carrierConfigsFromEnv(env: NodeJS.ProcessEnv = process.env): CarrierConfigs {
  return {
    sf: group(env, 'SF Express', ['SF_EXPRESS_URL', 'SF_EXPRESS_PARTNER_ID', 'SF_EXPRESS_CHECK_WORD'], (v) =>
      liveFields(
        { url: v.SF_EXPRESS_URL, partnerId: v.SF_EXPRESS_PARTNER_ID, checkWord: '', ...(env.SF_EXPRESS_MONTHLY_CARD ? { monthlyCard: env.SF_EXPRESS_MONTHLY_CARD } : {}) } as SfExpressConfig,
        { checkWord: () => v.SF_EXPRESS_CHECK_WORD },
      ),
    ),
    kuaidi100: group(env, 'Kuaidi100', ['KUAIDI100_URL', 'KUAIDI100_KEY', 'KUAIDI100_SALT', 'KUAIDI100_CALLBACK_URL'], (v) =>
      liveFields({ url: v.KUAIDI100_URL, key: '', salt: '', callbackUrl: v.KUAIDI100_CALLBACK_URL } as Kuaidi100Config, { key: () => v.KUAIDI100_KEY, salt: () => v.KUAIDI100_SALT }),
    ),
    cainiao: group(env, 'Cainiao', ['CAINIAO_GATEWAY_URL', 'CAINIAO_APP_KEY', 'CAINIAO_APP_SECRET', 'CAINIAO_SESSION', 'CAINIAO_CP_CODE'], (v) => liveFields({
      gatewayUrl: v.CAINIAO_GATEWAY_URL,
      appKey: v.CAINIAO_APP_KEY,
      appSecret: '',
      session: '',
      cpCode: v.CAINIAO_CP_CODE,
      templateUrl: env.CAINIAO_TEMPLATE_URL?.trim() || 'https://cloudprint.cainiao.com/template/standard/101/123',
      sender: {
        name: env.CAINIAO_SENDER_NAME?.trim() || '仓库发货员',
        mobile: env.CAINIAO_SENDER_MOBILE?.trim() || '13800000000',
        address: { province: '浙江省', city: '杭州市', district: '余杭区', detail: env.CAINIAO_SENDER_ADDRESS?.trim() || '仓前街道 1 号' },
      },
    } as CainiaoConfig, { appSecret: () => v.CAINIAO_APP_SECRET, session: () => v.CAINIAO_SESSION })),
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
