import type { Channel } from '@flowline/contracts';
import type { RejectReason } from '../domain/import/rejections';

/** One order whose rows were refused; it waits in the quarantine (id) for a person to fix and retry. */
export interface RejectedRowsReport {
  quarantineId: string | null;
  channelOrderId: string | null;
  rowNumbers: number[];
  reasons: RejectReason[];
}

/** A status change the platform reported that the order flow refused (the order is left for a person). */
export interface RefusedChangeReport {
  channelOrderId: string;
  orderId: string;
  step: string;
  code: string;
  message: string;
}

/** What an import did: the CLI prints it, the REST upload returns it, the run keeps it. */
export interface ImportReport {
  runId: string;
  /** True when this run continued an interrupted run of the same file. */
  resumed: boolean;
  dryRun: boolean;
  channel: Channel;
  profile: { id: string; version: number };
  file: { name: string; sha256: string; format: 'csv' | 'xlsx' | 'html'; encoding: string; bom: boolean };
  itemsFile?: { name: string; sha256: string; encoding: string };
  rowsRead: number;
  blankRows: number;
  summaryRows: number;
  /** Exact repeats of a row within the file (ignored). */
  duplicateRows: number;
  ordersSeen: number;
  /** New orders placed in order-intake. */
  imported: number;
  /** Orders already known with nothing new. */
  duplicates: number;
  /** Known orders whose platform status changes were applied through the order flow. */
  updated: number;
  /** Group-buy (拼团) orders whose group has not formed or failed: not placed (left out of the auto-ingest rate). */
  waiting: number;
  rejected: RejectedRowsReport[];
  refusedChanges: RefusedChangeReport[];
  /** Orders of this file that entered with no person touching them / orders seen (1 when none seen). */
  autoIngestRate: number;
  startedAt: string;
  finishedAt: string;
}
