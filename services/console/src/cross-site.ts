import { PROBLEM_JSON, PROBLEM_TYPE_PREFIX } from '@flowline/platform';

/**
 * Cross-site request forgery at the BFF. The session cookie is SameSite=Strict, but "site" ignores the
 * port: any page on the same host (another local service, a dev server) is same-site and its form POST
 * carries the cookie. So a state-changing call forwarded to a service must come from the console's own
 * pages: its Origin (or, without one, its Referer) is the console's origin, and its body is JSON (a plain
 * HTML form can only send urlencoded, multipart or text/plain bodies; JSON needs a script, which a foreign
 * origin cannot run against us without CORS, which the console never grants).
 *
 * A call with neither Origin nor Referer is let through: browsers send Origin on every POST, PUT, PATCH
 * and DELETE (a sandboxed or no-referrer page sends `Origin: null`, which is refused), so such a call is
 * not a browser's (curl with a copied cookie, the tests' direct calls).
 */

export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Forwarded routes that take a body other than JSON, by path prefix under /api/<service>. None today:
 * imports send the file as base64 inside JSON (console README, Imports).
 */
export const NON_JSON_ROUTES: readonly { prefix: string; types: readonly string[] }[] = [];

export interface CrossSiteRefusal {
  status: 403 | 415;
  code: 'CROSS_SITE_REQUEST' | 'UNSUPPORTED_MEDIA_TYPE';
  message: string;
}

interface RequestLike {
  method: string;
  url: string;
  protocol?: string;
  headers: Record<string, string | string[] | undefined>;
}

const header = (h: RequestLike['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

const originOf = (value: string): string | undefined => {
  try {
    const u = new URL(value);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
};

/**
 * Whether `origin` is the console's own: CONSOLE_PUBLIC_URL's origin when set, else the request's Host
 * (http or https: behind a TLS-terminating proxy the console itself may see http). A forged Host is no
 * help to a forger: a browser sends the console's own Host with the attacker's Origin.
 */
function isOwnOrigin(origin: string, req: RequestLike, publicUrl: string | undefined): boolean {
  if (publicUrl) return origin === originOf(publicUrl);
  const host = header(req.headers, 'host');
  if (!host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

/** Why a forwarded request is refused, or null to forward it. */
export function crossSiteRefusal(req: RequestLike, publicUrl?: string): CrossSiteRefusal | null {
  if (!UNSAFE_METHODS.has(req.method.toUpperCase())) return null;
  const origin = header(req.headers, 'origin');
  const referer = header(req.headers, 'referer');
  if (origin !== undefined || referer !== undefined) {
    const claimed = originOf(origin ?? referer ?? '');
    const named = origin !== undefined ? `Origin ${origin}` : 'Referer';
    if (!claimed || !isOwnOrigin(claimed, req, publicUrl)) {
      return { status: 403, code: 'CROSS_SITE_REQUEST', message: `${req.method} refused: its ${named} is not the console's own origin (cross-site request forgery protection)` };
    }
  }
  const hasBody = Number(header(req.headers, 'content-length') ?? 0) > 0 || header(req.headers, 'transfer-encoding') !== undefined;
  if (!hasBody) return null;
  const type = (header(req.headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return null;
  const path = req.url.split('?')[0] ?? req.url;
  if (NON_JSON_ROUTES.some((r) => path.startsWith(r.prefix) && r.types.includes(type))) return null;
  return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: `${req.method} refused: the console forwards JSON bodies only (got ${type || 'no content-type'})` };
}

/** The refusal as an RFC 9457 problem (the platform's shape: code, message, details). */
export function crossSiteProblem(r: CrossSiteRefusal, instance: string) {
  return {
    contentType: PROBLEM_JSON,
    body: { type: `${PROBLEM_TYPE_PREFIX}${r.code}`, title: r.code, status: r.status, detail: r.message, instance, code: r.code, message: r.message, domain: 'console.flowline', details: {} },
  };
}
