import { RuleDocumentInvalid, RuleDocumentStore, type RuleDocumentKind, type RuleDocumentRevision } from '@flowline/platform';
import type { Pool } from 'pg';
import type { RuleSetSource } from '../application/rule-set.source';
import { RuleSetInvalid, type RuleSet, type Scalar } from '../domain/rules/rule-set';
import { parseRuleSet } from '../domain/rules/rule-set.parser';

export const FLOW_RULES_KIND = 'order-intake.flow-rules';

/** Flow rules as a rule document: the rule-set schema and parser, configuration's parameter overrides applied. */
export function flowRulesKind(paramOverrides: Record<string, Scalar> = {}): RuleDocumentKind<RuleSet> {
  return {
    name: FLOW_RULES_KIND,
    parse(text, source) {
      try {
        return parseRuleSet(text, { source, format: text.trimStart().startsWith('{') ? 'json' : 'yaml', paramOverrides });
      } catch (error) {
        if (error instanceof RuleSetInvalid) {
          throw new RuleDocumentInvalid(FLOW_RULES_KIND, error.problems.map((p) => ({ path: p.path, reason: p.reason, ...(p.ruleId ? { ruleId: p.ruleId } : {}) })));
        }
        throw error;
      }
    },
    label: (rs) => rs.ruleSetVersion,
  };
}

export interface FlowRuleStoreOptions {
  seedFile: string;
  paramOverrides?: Record<string, Scalar>;
  pollIntervalMs?: number;
  onChange?: (revision: RuleDocumentRevision<RuleSet>) => void;
  onInvalid?: (error: Error) => void;
}

/**
 * The flow rules in force: the newest version in rule_document_versions (seeded from
 * rules/default.rules.yaml, edited through /api/rules/flow), polled so every instance follows.
 */
export class FlowRuleStore implements RuleSetSource {
  private constructor(readonly documents: RuleDocumentStore<RuleSet>) {}

  static async open(pool: Pool, options: FlowRuleStoreOptions): Promise<FlowRuleStore> {
    const documents = await RuleDocumentStore.open(pool, flowRulesKind(options.paramOverrides), {
      seedFile: options.seedFile,
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      ...(options.onChange ? { onChange: options.onChange } : {}),
      ...(options.onInvalid ? { onInvalid: options.onInvalid } : {}),
    });
    return new FlowRuleStore(documents);
  }

  /** The file the rules were seeded from (logs). */
  get path(): string {
    return this.documents.seedFile;
  }

  current(): RuleSet {
    return this.documents.current();
  }

  /**
   * Saves a new version. Its declared ruleSetVersion must be new (every decision records it on the
   * order, so two versions with one name would be told apart only by hash): a reused one is
   * refused at path `ruleSetVersion`.
   */
  async save(input: { document: string; author: string; reason: string; expectedVersion: number }): Promise<RuleDocumentRevision<RuleSet>> {
    const next = this.documents.validate(input.document);
    const used = (await this.documents.versions()).find((v) => v.label === next.ruleSetVersion);
    if (used) {
      throw new RuleDocumentInvalid(FLOW_RULES_KIND, [
        { path: 'ruleSetVersion', reason: `"${next.ruleSetVersion}" is already version ${used.version}'s; give this version a new ruleSetVersion` },
      ]);
    }
    return this.documents.save(input);
  }

  close(): void {
    this.documents.close();
  }
}
