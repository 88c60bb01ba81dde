import { createRequire } from 'node:module';

/**
 * Keeps Node's bundled undici (fetch, WebSocket; ~0.8 MB of source plus web streams and webcrypto,
 * ~5 MiB of heap measured in approval) out of a process until something really uses it
 * (issue #10 item 6, idle RSS <= 150 MiB).
 *
 * Why it loads otherwise: `node:http` exposes WebSocket, CloseEvent and MessageEvent as getters that
 * require undici, and the first ESM `import ... from 'http'` (NestJS 12 is ESM: @nestjs/core,
 * @nestjs/platform-fastify) builds the module's ESM facade by reading every export, so every
 * service loaded undici at boot without calling fetch once.
 *
 * Here each of those getters answers `undefined` to that facade read only (recognised by Node's
 * syncExports / getESMFacade frames on the stack) and, on any other read, puts Node's own getter
 * back and returns its value: `require('http').WebSocket`, `globalThis.WebSocket` and `fetch` are
 * unchanged. The one difference: a named ESM import `import { WebSocket } from 'node:http'` sees
 * undefined (nothing in Flowline or its dependencies does that; `module.syncBuiltinESMExports()`
 * would fill it). If a Node version names those frames differently, the getter falls back to
 * Node's own, so the worst case is today's behaviour.
 *
 * Must run before the first ESM import of `http`: @flowline/observability imports it first, and
 * every service's main.ts imports './instrument' (which imports @flowline/observability) first.
 */
export function deferUndiciOnHttpImport(): void {
  const http = createRequire(__filename)('node:http') as Record<string, unknown>;
  for (const name of ['WebSocket', 'CloseEvent', 'MessageEvent']) {
    const own = Object.getOwnPropertyDescriptor(http, name);
    if (!own?.get || !own.configurable) continue;
    Object.defineProperty(http, name, {
      configurable: true,
      enumerable: own.enumerable,
      get(this: unknown): unknown {
        if (/\b(syncExports|getESMFacade)\b/.test(new Error().stack ?? '')) return undefined;
        Object.defineProperty(http, name, own);
        return own.get?.call(this);
      },
    });
  }
}

// On import: libs/observability/src/index.ts imports this module first.
deferUndiciOnHttpImport();
