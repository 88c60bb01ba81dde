import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OidcSettings } from './auth/oidc-client';

/** The services the console forwards to, with their default local ports (scripts/services.ts). */
export const UPSTREAMS = {
  'order-intake': 3001,
  inventory: 3002,
  approval: 3003,
  fulfillment: 3004,
  notification: 3005,
  tracking: 3006,
  'channel-gateway': 3007,
  analytics: 3008,
} as const;
export type UpstreamName = keyof typeof UPSTREAMS;

export interface ConsoleConfig {
  /** service name -> base URL, e.g. order-intake -> http://127.0.0.1:3001 */
  upstreams: Record<UpstreamName, string>;
  /** Folder of the built web app (index.html + assets/). */
  webDir: string;
  /** The staff login: the OIDC issuer of the auth contract and the console's client there. */
  oidc: OidcSettings;
  /** The console's public origin (the redirect URI registered at the issuer); unset: the request's own origin. */
  publicUrl?: string;
  /** Secure cookies (https): on when CONSOLE_PUBLIC_URL is https or CONSOLE_COOKIE_SECURE=1. */
  cookieSecure: boolean;
  /** Absolute lifetime of a staff session (CONSOLE_SESSION_HOURS, default 12): then the user logs in again. */
  sessionMaxAgeMs: number;
  /** A session without requests for this long ends (CONSOLE_SESSION_IDLE_MINUTES, default 60; 0 = no idle limit). */
  sessionIdleMs: number;
}

/** `order-intake` -> `ORDER_INTAKE_URL` (the same names scripts/start.ts sets). */
export const upstreamEnvName = (name: string) => `${name.replace(/-/g, '_').toUpperCase()}_URL`;

export function consoleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const upstreams = Object.fromEntries(
    Object.entries(UPSTREAMS).map(([name, port]) => [name, (env[upstreamEnvName(name)] ?? `http://127.0.0.1:${port}`).replace(/\/$/, '')]),
  ) as Record<UpstreamName, string>;
  const publicUrl = env.CONSOLE_PUBLIC_URL?.replace(/\/$/, '') || undefined;
  const hours = Number(env.CONSOLE_SESSION_HOURS ?? 12);
  const idleMinutes = Number(env.CONSOLE_SESSION_IDLE_MINUTES ?? 60);
  return {
    upstreams,
    webDir: env.CONSOLE_WEB_DIR ?? defaultWebDir(),
    oidc: {
      issuer: (env.OIDC_ISSUER ?? 'http://127.0.0.1:4400').replace(/\/$/, ''),
      clientId: env.CONSOLE_OIDC_CLIENT_ID ?? 'flowline-console',
      ...(env.CONSOLE_OIDC_CLIENT_SECRET ? { clientSecret: env.CONSOLE_OIDC_CLIENT_SECRET } : {}),
      audience: env.OIDC_AUDIENCE ?? 'flowline',
      scope: env.CONSOLE_OIDC_SCOPE ?? 'openid profile offline_access',
      ...(env.CONSOLE_OIDC_RESOURCE ? { resource: env.CONSOLE_OIDC_RESOURCE } : {}),
    },
    ...(publicUrl ? { publicUrl } : {}),
    cookieSecure: publicUrl?.startsWith('https:') === true || env.CONSOLE_COOKIE_SECURE === '1',
    sessionMaxAgeMs: (Number.isFinite(hours) && hours > 0 ? hours : 12) * 3_600_000,
    sessionIdleMs: (Number.isFinite(idleMinutes) && idleMinutes >= 0 ? idleMinutes : 60) * 60_000,
  };
}

/** services/console/web/dist from the sources, dist/services/console/web/dist from the build: both are ../web/dist. */
function defaultWebDir(): string {
  return resolve(__dirname, '../web/dist');
}

export const webBuilt = (dir: string) => existsSync(resolve(dir, 'index.html'));
