import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

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
  /**
   * TEMPORARY until #16 (OIDC): the browser picks its user and role with the dev login stub and
   * the BFF forwards them as X-Actor-Id / X-Actor-Role. CONSOLE_DEV_LOGIN=0 refuses every request
   * that would act as someone (there is no other login yet).
   */
  devLogin: boolean;
}

/** `order-intake` -> `ORDER_INTAKE_URL` (the same names scripts/start.ts sets). */
export const upstreamEnvName = (name: string) => `${name.replace(/-/g, '_').toUpperCase()}_URL`;

export function consoleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const upstreams = Object.fromEntries(
    Object.entries(UPSTREAMS).map(([name, port]) => [name, (env[upstreamEnvName(name)] ?? `http://127.0.0.1:${port}`).replace(/\/$/, '')]),
  ) as Record<UpstreamName, string>;
  return { upstreams, webDir: env.CONSOLE_WEB_DIR ?? defaultWebDir(), devLogin: env.CONSOLE_DEV_LOGIN !== '0' };
}

/** services/console/web/dist from the sources, dist/services/console/web/dist from the build: both are ../web/dist. */
function defaultWebDir(): string {
  return resolve(__dirname, '../web/dist');
}

export const webBuilt = (dir: string) => existsSync(resolve(dir, 'index.html'));
