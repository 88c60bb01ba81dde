import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs an ES module in a fresh Node process that loaded defer-undici.ts first, as every service does. */
function inFreshProcess(body: string, preload = true): Record<string, unknown> {
  const args = preload ? ['-r', '@swc-node/register', '-r', resolve(__dirname, 'defer-undici.ts')] : [];
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', body], {
    cwd: resolve(__dirname, '../../..'),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const undiciLoaded = `process.moduleLoadList.some((m) => m.includes('undici'))`;

describe('deferUndiciOnHttpImport (idle memory, issue #10 item 6)', () => {
  it('an ESM import of node:http (as NestJS does) no longer loads undici', () => {
    const body = `import { STATUS_CODES } from 'node:http';
import * as http from 'node:http';
process.stdout.write(JSON.stringify({ status: STATUS_CODES[404], undici: ${undiciLoaded}, esmWebSocket: typeof http.WebSocket }));`;
    expect(inFreshProcess(body)).toEqual({ status: 'Not Found', undici: false, esmWebSocket: 'undefined' });
    // Control: without it this Node loads undici on that import (if this fails, Node no longer does and defer-undici can go).
    expect(inFreshProcess(body, false)).toEqual({ status: 'Not Found', undici: true, esmWebSocket: 'function' });
  });

  it("require('http').WebSocket, globalThis.WebSocket and fetch are Node's own, loaded on first use", () => {
    const out = inFreshProcess(`import 'node:http';
import { createRequire } from 'node:module';
const http = createRequire(import.meta.url)('node:http');
const before = ${undiciLoaded};
const same = http.WebSocket === globalThis.WebSocket && http.CloseEvent === globalThis.CloseEvent && http.MessageEvent === globalThis.MessageEvent;
const getterRestored = typeof Object.getOwnPropertyDescriptor(http, 'WebSocket').get === 'function';
process.stdout.write(JSON.stringify({ before, same, webSocket: typeof http.WebSocket, getterRestored, fetch: typeof fetch, after: ${undiciLoaded} }));`);
    expect(out).toEqual({ before: false, same: true, webSocket: 'function', getterRestored: true, fetch: 'function', after: true });
  });
});
