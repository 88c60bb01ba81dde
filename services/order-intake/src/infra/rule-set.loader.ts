import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { RuleSetInvalid, type RuleSet, type Scalar } from '../domain/rules/rule-set';
import { parseRuleSet } from '../domain/rules/rule-set.parser';
import type { RuleSetSource } from '../application/rule-set.source';

export interface RuleSetFileOptions {
  /** Parameter values that replace the file's (configuration, e.g. ORDER_RULE_PARAMS). */
  paramOverrides?: Record<string, Scalar>;
  /** How often the file is checked for changes (default 1 s; fs.watchFile polls, which survives editors' rename-on-save). */
  pollIntervalMs?: number;
  onReload?: (ruleSet: RuleSet) => void;
  /** Called when an edited file is invalid; the previous rule set stays in force. */
  onInvalid?: (error: RuleSetInvalid | Error) => void;
}

/**
 * The rule file in force, reloaded without a restart when it changes. Loading at start throws
 * RuleSetInvalid (the service must not run on rules it cannot read); a bad edit later is refused
 * with the rule and the reason, and the last good version keeps deciding.
 */
export class RuleSetFile implements RuleSetSource {
  private ruleSet: RuleSet;
  private watching = false;

  constructor(
    readonly path: string,
    private readonly options: RuleSetFileOptions = {},
  ) {
    this.ruleSet = this.read();
  }

  current(): RuleSet {
    return this.ruleSet;
  }

  /** Re-reads the file now. Returns the rule set in force afterwards. */
  reload(): RuleSet {
    try {
      const next = this.read();
      if (next.hash !== this.ruleSet.hash) {
        this.ruleSet = next;
        this.options.onReload?.(next);
      }
    } catch (error) {
      this.options.onInvalid?.(error as Error);
    }
    return this.ruleSet;
  }

  watch(): this {
    if (this.watching) return this;
    this.watching = true;
    watchFile(this.path, { interval: this.options.pollIntervalMs ?? 1_000, persistent: false }, (curr, prev) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) this.reload();
    });
    return this;
  }

  close(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }

  private read(): RuleSet {
    statSync(this.path); // a clear ENOENT names the path
    const text = readFileSync(this.path, 'utf8');
    return parseRuleSet(text, {
      source: this.path,
      format: this.path.endsWith('.json') ? 'json' : 'yaml',
      ...(this.options.paramOverrides ? { paramOverrides: this.options.paramOverrides } : {}),
    });
  }
}
