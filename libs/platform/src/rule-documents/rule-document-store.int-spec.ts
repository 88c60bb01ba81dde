import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@flowline/testing';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuleDocumentInvalid, RuleDocumentStore, RuleDocumentVersionConflict, type RuleDocumentKind } from './rule-document-store';

// A toy kind: a JSON document {label: string, limit: number}.
const kind: RuleDocumentKind<{ label: string; limit: number }> = {
  name: 'test.limits',
  parse(text) {
    const v = JSON.parse(text) as { label?: unknown; limit?: unknown };
    const problems = [
      ...(typeof v.label === 'string' ? [] : [{ path: 'label', reason: 'must be a string' }]),
      ...(typeof v.limit === 'number' ? [] : [{ path: 'limit', reason: 'must be a number' }]),
    ];
    if (problems.length) throw new RuleDocumentInvalid('test.limits', problems);
    return v as { label: string; limit: number };
  },
  label: (v) => v.label,
};

describe('RuleDocumentStore (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const dir = mkdtempSync(join(tmpdir(), 'rule-docs-'));
  const file = join(dir, 'limits.json');
  const stores: RuleDocumentStore<unknown>[] = [];
  const open = async () => {
    const s = await RuleDocumentStore.open(pool, kind, { seedFile: file, pollIntervalMs: 0 });
    stores.push(s as RuleDocumentStore<unknown>);
    return s;
  };

  beforeAll(async () => {
    db = await createTestDatabase('rule_documents');
    pool = new Pool({ connectionString: db.url, max: 4 });
    writeFileSync(file, '{"label":"a","limit":1}');
  });
  afterAll(async () => {
    stores.forEach((s) => s.close());
    await pool?.end();
    await db?.drop();
  });

  it('seeds version 1 from the file once, and saves edits as new versions with author and reason', async () => {
    const a = await open();
    expect(a.currentRevision()).toMatchObject({ version: 1, label: 'a', author: 'file:limits.json', value: { limit: 1 } });
    const again = await open();
    expect(again.currentRevision().version).toBe(1);

    const saved = await a.save({ document: '{"label":"b","limit":2}', author: 'admin-li', reason: 'raise the limit', expectedVersion: 1 });
    expect(saved).toMatchObject({ version: 2, label: 'b', author: 'admin-li', reason: 'raise the limit' });
    expect(a.current()).toEqual({ label: 'b', limit: 2 });
    expect((await a.versions()).map((v) => v.version)).toEqual([2, 1]);
    expect((await a.version(1))?.document).toBe('{"label":"a","limit":1}');
  });

  it('refuses a stale expectedVersion and an invalid document, naming each path', async () => {
    const a = await open();
    await expect(a.save({ document: '{"label":"c","limit":3}', author: 'x', reason: 'stale', expectedVersion: 1 })).rejects.toBeInstanceOf(RuleDocumentVersionConflict);
    const invalid = await a.save({ document: '{"label":1}', author: 'x', reason: 'bad', expectedVersion: a.currentRevision().version }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(RuleDocumentInvalid);
    expect((invalid as RuleDocumentInvalid).problems.map((p) => p.path)).toEqual(['label', 'limit']);
  });

  it('another instance picks up a saved version on refresh; an unchanged file does not override it, a changed one does', async () => {
    const a = await open();
    const b = await open();
    const v = a.currentRevision().version;
    await a.save({ document: '{"label":"d","limit":4}', author: 'gm-wang', reason: 'peak season', expectedVersion: v });
    expect(b.current().label).not.toBe('d');
    await b.refresh();
    expect(b.currentRevision()).toMatchObject({ version: v + 1, label: 'd', author: 'gm-wang' });

    expect((await open()).current().label).toBe('d'); // restart with the same file: the edit stays
    writeFileSync(file, '{"label":"deployed","limit":9}');
    const c = await open();
    expect(c.currentRevision()).toMatchObject({ version: v + 2, label: 'deployed', author: 'file:limits.json' });
  });

  it('a stored version this code cannot parse is reported once and skipped; the previous one keeps deciding', async () => {
    const a = await open();
    const before = a.currentRevision();
    await pool.query(
      `INSERT INTO rule_document_versions (kind, version, document, hash, label, author, reason) VALUES ($1, $2, '{"label":7}', 'x', null, 'someone', 'bad')`,
      [kind.name, before.version + 1],
    );
    await expect(a.refresh()).rejects.toBeInstanceOf(RuleDocumentInvalid);
    await a.refresh(); // the same bad version again: not reported twice
    expect(a.currentRevision().version).toBe(before.version);
    await pool.query(`INSERT INTO rule_document_versions (kind, version, document, hash, label, author, reason) VALUES ($1, $2, '{"label":"e","limit":5}', 'y', 'e', 'someone', 'fixed')`, [kind.name, before.version + 2]);
    await a.refresh();
    expect(a.currentRevision()).toMatchObject({ version: before.version + 2, label: 'e' });
  });
});
