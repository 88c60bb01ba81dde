import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { namedStatement, pgTransactions } from '@flowline/messaging';
import type { Pool, PoolClient } from 'pg';
import { runMigrations, type Migration } from '../migrations';

/**
 * Rule documents (flow rules, approval chains, ...): a YAML/JSON text checked by its service's
 * schema, versioned in the service's own database (docs/adr/0021-rule-documents.md).
 *
 * - The file shipped with the service seeds version 1, and is appended again as a new version
 *   whenever its content differs from the last version seeded from a file (a deploy that changes
 *   the file wins; an unchanged file never overrides an edit made through the API).
 * - Every edit is a new row (version, document, hash, author = token subject, reason); the newest
 *   row is in force. Nothing is ever updated or deleted.
 * - Each instance polls the newest version number (one indexed query per interval, default 1 s)
 *   and parses the new document; the instance that saved sees it at once.
 */

/** One problem in a document: where (path in the document, e.g. `rules[1].when.op`) and why. */
export interface RuleDocumentProblem {
  path: string;
  reason: string;
  ruleId?: string;
}

/** A document that fails its schema: every problem with its path. */
export class RuleDocumentInvalid extends Error {
  readonly code = 'RULE_DOCUMENT_INVALID';
  constructor(
    readonly kind: string,
    readonly problems: RuleDocumentProblem[],
  ) {
    super(`${kind} document is invalid: ` + problems.map((p) => `at ${p.path || '(root)'}: ${p.reason}`).join('; '));
    this.name = 'RuleDocumentInvalid';
  }
}

/** A save based on a version that is no longer the newest (someone saved in between). */
export class RuleDocumentVersionConflict extends Error {
  readonly code = 'RULE_DOCUMENT_VERSION_CONFLICT';
  constructor(
    readonly kind: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`${kind}: the edit was based on version ${expected}, but version ${actual} is current now; reload and edit again`);
    this.name = 'RuleDocumentVersionConflict';
  }
}

/** What a service tells the store about one kind of document. */
export interface RuleDocumentKind<T> {
  /** Stable name, the key of its rows: `order-intake.flow-rules`. */
  name: string;
  /**
   * Text -> value; throws RuleDocumentInvalid (or any error, reported as one problem at the root)
   * for a document that must not be used. `source` names the text in messages (file path, `v3`).
   */
  parse(text: string, source: string): T;
  /** A short label of a value shown beside its version number (e.g. the declared ruleSetVersion). */
  label?(value: T): string;
}

export interface RuleDocumentVersion {
  version: number;
  /** `sha256:` + 12 hex of the document text. */
  hash: string;
  label: string | null;
  /** Token subject of the person who saved it, or `file:<name>` for a version seeded from the file. */
  author: string;
  reason: string;
  createdAt: string;
}

export interface RuleDocumentRevision<T> extends RuleDocumentVersion {
  document: string;
  value: T;
}

export interface RuleDocumentStoreOptions<T> {
  /** The service's file: the seed (and a deploy's new version when it changed). */
  seedFile: string;
  /** How often the newest version is checked (ms, default 1000; 0 = never, tests call refresh()). */
  pollIntervalMs?: number;
  onChange?: (revision: RuleDocumentRevision<T>) => void;
  /** A stored version this code cannot parse (kept out of force; the previous one keeps deciding). */
  onInvalid?: (error: Error) => void;
}

export const RULE_DOCUMENT_MIGRATION_SCOPE = 'platform.rule-documents';
export const RULE_DOCUMENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rule document versions',
    statements: [
      `CREATE TABLE IF NOT EXISTS rule_document_versions (
         kind text NOT NULL,
         version integer NOT NULL,
         document text NOT NULL,
         hash text NOT NULL,
         label text,
         author text NOT NULL,
         reason text NOT NULL,
         seed_hash text,
         created_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (kind, version)
       )`,
    ],
  },
];

export const documentHash = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;

type Row = { version: number; document: string; hash: string; label: string | null; author: string; reason: string; created_at: Date | string };

/** Creates rule_document_versions (migration scope `platform.rule-documents`). */
export async function migrateRuleDocuments(pool: Pool): Promise<void> {
  await runMigrations(pgTransactions(pool), RULE_DOCUMENT_MIGRATION_SCOPE, RULE_DOCUMENT_MIGRATIONS);
}

const toVersion = (r: Row): RuleDocumentVersion => ({
  version: Number(r.version),
  hash: r.hash,
  label: r.label,
  author: r.author,
  reason: r.reason,
  createdAt: r.created_at instanceof Date ? r.created_at.toISOString() : new Date(r.created_at).toISOString(),
});

/** The versions of one kind of rule document in a service database, the newest in force. */
export class RuleDocumentStore<T> {
  private revision!: RuleDocumentRevision<T>;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** The newest version found unusable: reported once, skipped until a newer one is saved. */
  private refused = 0;

  private constructor(
    private readonly pool: Pool,
    readonly kind: RuleDocumentKind<T>,
    private readonly options: RuleDocumentStoreOptions<T>,
  ) {}

  /** Migrates, seeds from the file when needed, loads the newest version and starts polling. */
  static async open<T>(pool: Pool, kind: RuleDocumentKind<T>, options: RuleDocumentStoreOptions<T>): Promise<RuleDocumentStore<T>> {
    const store = new RuleDocumentStore(pool, kind, options);
    await migrateRuleDocuments(pool);
    await store.seed();
    const newest = await store.load();
    if (!newest) throw new Error(`${kind.name}: no version after seeding`);
    // The newest version must parse at boot: a service must not run on rules it cannot read.
    store.revision = store.toRevision(newest);
    const interval = options.pollIntervalMs ?? 1_000;
    if (interval > 0) {
      store.timer = setInterval(() => void store.refresh().catch((e: unknown) => options.onInvalid?.(e as Error)), interval);
      store.timer.unref();
    }
    return store;
  }

  /** Where the seed comes from (for logs). */
  get seedFile(): string {
    return this.options.seedFile;
  }

  /** The value in force. */
  current(): T {
    return this.revision.value;
  }

  /** The version in force, with its document text. */
  currentRevision(): RuleDocumentRevision<T> {
    return this.revision;
  }

  /** Parses a document as a save would, without saving (throws RuleDocumentInvalid). */
  validate(text: string, source = 'draft'): T {
    return this.parse(text, source);
  }

  /** Every version, newest first (without the documents). */
  async versions(): Promise<RuleDocumentVersion[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT version, '' AS document, hash, label, author, reason, created_at FROM rule_document_versions WHERE kind = $1 ORDER BY version DESC`,
      [this.kind.name],
    );
    return rows.map(toVersion);
  }

  /** One version with its document, or null. */
  async version(n: number): Promise<(RuleDocumentVersion & { document: string }) | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT version, document, hash, label, author, reason, created_at FROM rule_document_versions WHERE kind = $1 AND version = $2`,
      [this.kind.name, n],
    );
    return rows[0] ? { ...toVersion(rows[0]), document: rows[0].document } : null;
  }

  /**
   * Saves a document as the next version when `expectedVersion` is still the newest
   * (RuleDocumentVersionConflict otherwise; RuleDocumentInvalid when it fails the schema).
   * In force on this instance at once, on the others within the poll interval.
   */
  async save(input: { document: string; author: string; reason: string; expectedVersion: number }): Promise<RuleDocumentRevision<T>> {
    const value = this.parse(input.document, 'draft');
    const row = await pgTransactions(this.pool).run(async ({ client }) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('rule-documents:' || $1))`, [this.kind.name]);
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM rule_document_versions WHERE kind = $1`, [this.kind.name]);
      const actual = Number(rows[0]?.v ?? 0);
      if (actual !== input.expectedVersion) throw new RuleDocumentVersionConflict(this.kind.name, input.expectedVersion, actual);
      return this.insert(client, { version: actual + 1, document: input.document, label: this.kind.label?.(value) ?? null, author: input.author, reason: input.reason, seedHash: null });
    });
    const revision = { ...toVersion(row), document: row.document, value };
    this.adopt(revision);
    return revision;
  }

  /** Reads the newest version now and puts it in force when it is newer (what the poll does). */
  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        // Every poll interval on every instance: prepared once per connection (planned per call, it
        // cost PostgreSQL more than it ran; issue #10).
        const { rows } = await this.pool.query<{ v: number | null }>(namedStatement(`SELECT max(version) AS v FROM rule_document_versions WHERE kind = $1`, [this.kind.name]));
        const max = Number(rows[0]?.v ?? 0);
        if (max <= this.revision.version || max <= this.refused) return;
        const newest = await this.load();
        if (!newest || newest.version <= this.revision.version) return;
        try {
          this.adopt(this.toRevision(newest));
        } catch (error) {
          this.refused = newest.version;
          throw error;
        }
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private adopt(revision: RuleDocumentRevision<T>): void {
    if (this.revision && revision.version <= this.revision.version) return;
    this.revision = revision;
    this.options.onChange?.(revision);
  }

  private parse(text: string, source: string): T {
    try {
      return this.kind.parse(text, source);
    } catch (error) {
      if (error instanceof RuleDocumentInvalid) throw error;
      throw new RuleDocumentInvalid(this.kind.name, [{ path: '', reason: (error as Error).message }]);
    }
  }

  private toRevision(row: Row): RuleDocumentRevision<T> {
    return { ...toVersion(row), document: row.document, value: this.parse(row.document, `${this.kind.name} v${row.version}`) };
  }

  private async load(): Promise<Row | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT version, document, hash, label, author, reason, created_at FROM rule_document_versions WHERE kind = $1 ORDER BY version DESC LIMIT 1`,
      [this.kind.name],
    );
    return rows[0] ?? null;
  }

  /** Appends the file as a new version when it differs from the last version seeded from a file. */
  private async seed(): Promise<void> {
    const text = readFileSync(this.options.seedFile, 'utf8');
    const seedHash = documentHash(text);
    const value = this.parse(text, this.options.seedFile);
    await pgTransactions(this.pool).run(async ({ client }) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('rule-documents:' || $1))`, [this.kind.name]);
      const { rows } = await client.query<{ seed_hash: string | null; v: number | null }>(
        `SELECT (SELECT seed_hash FROM rule_document_versions WHERE kind = $1 AND seed_hash IS NOT NULL ORDER BY version DESC LIMIT 1) AS seed_hash,
                (SELECT max(version) FROM rule_document_versions WHERE kind = $1) AS v`,
        [this.kind.name],
      );
      if (rows[0]?.seed_hash === seedHash) return;
      const version = Number(rows[0]?.v ?? 0) + 1;
      await this.insert(client, {
        version,
        document: text,
        label: this.kind.label?.(value) ?? null,
        author: `file:${basename(this.options.seedFile)}`,
        reason: version === 1 ? `seeded from ${basename(this.options.seedFile)}` : `${basename(this.options.seedFile)} changed (deployed)`,
        seedHash,
      });
    });
  }

  private async insert(
    client: PoolClient,
    r: { version: number; document: string; label: string | null; author: string; reason: string; seedHash: string | null },
  ): Promise<Row> {
    const { rows } = await client.query<Row>(
      `INSERT INTO rule_document_versions (kind, version, document, hash, label, author, reason, seed_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING version, document, hash, label, author, reason, created_at`,
      [this.kind.name, r.version, r.document, documentHash(r.document), r.label, r.author, r.reason, r.seedHash],
    );
    return rows[0];
  }
}
