/// <reference types="node" />
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reasonEntry } from './i18n';

const REPO = resolve(__dirname, '../../../..');

/** The non-test TypeScript sources under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(name) ? [path] : [];
  });
}

/** Every code channel-gateway refuses with: its DomainErrors (and libs/imports' file readers), its row reasons, its upload's 413. */
function channelGatewayCodes(): string[] {
  const text = [...sources(join(REPO, 'services/channel-gateway/src')), ...sources(join(REPO, 'libs/imports/src'))].map((f) => readFileSync(f, 'utf8')).join('\n');
  const codes = new Set<string>(['PAYLOAD_TOO_LARGE']);
  for (const m of text.matchAll(/new DomainError\(\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1] ?? '');
  for (const m of text.matchAll(/code: '([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1] ?? '');
  const rejectCodes = /export type RejectCode =([^;]+);/.exec(readFileSync(join(REPO, 'services/channel-gateway/src/domain/import/rejections.ts'), 'utf8'))?.[1] ?? '';
  for (const m of rejectCodes.matchAll(/'([A-Z][A-Z0-9_]+)'/g)) codes.add(m[1] ?? '');
  return [...codes].sort();
}

describe("the console's refusal catalogue", () => {
  it('reads every refusal code channel-gateway can answer in Chinese and English (no raw server English on the imports screen)', () => {
    const codes = channelGatewayCodes();
    // The scan finds the codes (a renamed helper would otherwise make this pass on nothing).
    expect(codes).toEqual(expect.arrayContaining(['IMPORT_ITEMS_FILE_REQUIRED', 'QUARANTINE_NOT_FOUND', 'IMPORT_FILE_UNREADABLE', 'UNKNOWN_STATUS', 'PLATFORM_STATUS_REOPENED']));
    const missing = codes.filter((c) => !reasonEntry(c)?.zh || !reasonEntry(c)?.en);
    expect(missing).toEqual([]);
    // Chinese first: the zh text is Chinese, not the English copied over.
    const notChinese = codes.filter((c) => !/[\u4e00-\u9fff]/.test(reasonEntry(c)?.zh ?? ''));
    expect(notChinese).toEqual([]);
  });
});
