import { isIP } from 'node:net';

/**
 * Fastify's `trustProxy` from TRUST_PROXY. Off by default: then X-Forwarded-For is ignored and the
 * per-IP limit counts the socket's address, so a client cannot pick its own bucket with a header.
 * Behind an ingress, set it to the ingress's addresses (CIDR list, the safe choice) or the number of
 * proxy hops in front of the service; then the client address is read from X-Forwarded-For, trusting
 * only those hops.
 *
 * - unset, `""`, `false`, `0` -> false
 * - `true` -> trust every hop (only when nothing but the proxy can reach the pod)
 * - `1`, `2`, ... -> that many hops
 * - `10.0.0.0/8,192.168.1.10` -> those addresses / networks
 */
export type TrustProxy = boolean | number | string[];

export function trustProxyFromEnv(env: NodeJS.ProcessEnv = process.env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr);
    const maxBits = family === 4 ? 32 : 128;
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (!family || !okBits || extra !== undefined) throw new Error(`TRUST_PROXY: "${e}" is not an IP address or CIDR (expected false, true, a hop count or a comma-separated CIDR list)`);
  }
  return entries;
}
