import { RuleDocumentInvalid, RuleDocumentStore, type RuleDocumentKind, type RuleDocumentRevision } from '@flowline/platform';
import type { Pool } from 'pg';
import { ChainSetInvalid, type ChainSet } from '../domain/chains/chain-set';
import { parseChainSet } from '../domain/chains/chain-set.parser';

export const CHAINS_KIND = 'approval.chains';

/** Approval chains as a rule document: the chain-set schema and parser. */
export const chainsKind: RuleDocumentKind<ChainSet> = {
  name: CHAINS_KIND,
  parse(text, source) {
    try {
      return parseChainSet(text, { source, format: text.trimStart().startsWith('{') ? 'json' : 'yaml' });
    } catch (error) {
      if (error instanceof ChainSetInvalid) throw new RuleDocumentInvalid(CHAINS_KIND, error.problems.map((p) => ({ path: p.path, reason: p.reason })));
      throw error;
    }
  },
  label: (set) => set.version,
};

/**
 * The approval chains in force: the newest version in rule_document_versions (seeded from
 * chains/default.chains.yaml, edited through /api/rules/chains), polled so every instance
 * follows (docs/adr/0021-rule-documents.md). Running approvals keep the chain they started with.
 */
export class ChainSetStore {
  private constructor(readonly documents: RuleDocumentStore<ChainSet>) {}

  static async open(
    pool: Pool,
    options: { seedFile: string; pollIntervalMs?: number; onChange?: (r: RuleDocumentRevision<ChainSet>) => void; onInvalid?: (e: Error) => void },
  ): Promise<ChainSetStore> {
    return new ChainSetStore(await RuleDocumentStore.open(pool, chainsKind, options));
  }

  current(): ChainSet {
    return this.documents.current();
  }

  /** A new version; its chainSetVersion must be new (approvals record it), else 422 at `chainSetVersion`. */
  async save(input: { document: string; author: string; reason: string; expectedVersion: number }): Promise<RuleDocumentRevision<ChainSet>> {
    const next = this.documents.validate(input.document);
    const used = (await this.documents.versions()).find((v) => v.label === next.version);
    if (used) {
      throw new RuleDocumentInvalid(CHAINS_KIND, [{ path: '/chainSetVersion', reason: `"${next.version}" is already version ${used.version}'s; give this version a new chainSetVersion` }]);
    }
    return this.documents.save(input);
  }

  close(): void {
    this.documents.close();
  }
}
