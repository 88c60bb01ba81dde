import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import type { ChainSet } from '../domain/chains/chain-set';
import { parseChainSet } from '../domain/chains/chain-set.parser';
import type { ChainSetStore } from './chain-set.store';

export interface ChainSetFileOptions {
  /** How often the file is checked for changes (default 1 s; fs.watchFile polls, which survives editors' rename-on-save). */
  pollIntervalMs?: number;
  onReload?: (set: ChainSet) => void;
  /** Called when an edited file is invalid; the previous chains stay in force. */
  onInvalid?: (error: Error) => void;
}

/** The default chain file shipped with the service. */
export const DEFAULT_CHAINS_PATH = resolve(__dirname, '../../chains/default.chains.yaml');

/**
 * The chain set in force. Read from the file at construction (an invalid file throws: the service
 * must not run on chains it cannot read); once the versioned store is attached (ChainRules, at
 * module init, before any command is consumed) the store's newest version is in force and the file
 * is only its seed (docs/adr/0021-rule-documents.md). Without a store (unit tests) the file is
 * reloaded when it changes; a bad edit is refused and the last good version keeps deciding.
 * Running approvals keep the chain version they started with.
 */
export class ChainSetFile {
  private set: ChainSet;
  private watching = false;
  private store: ChainSetStore | null = null;

  constructor(
    readonly path: string,
    private readonly options: ChainSetFileOptions = {},
  ) {
    this.set = this.read();
  }

  current(): ChainSet {
    return this.store ? this.store.current() : this.set;
  }

  /** From now on the versioned store decides; the file is no longer watched. */
  attach(store: ChainSetStore): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
    this.store = store;
  }

  reload(): ChainSet {
    try {
      const next = this.read();
      if (next.hash !== this.set.hash) {
        this.set = next;
        this.options.onReload?.(next);
      }
    } catch (error) {
      this.options.onInvalid?.(error as Error);
    }
    return this.set;
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
    this.store?.close();
  }

  private read(): ChainSet {
    statSync(this.path);
    return parseChainSet(readFileSync(this.path, 'utf8'), { source: this.path, format: this.path.endsWith('.json') ? 'json' : 'yaml' });
  }
}
