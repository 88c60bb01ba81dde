import type { Channel } from '@flowline/contracts';
import type { ChannelOrderDraft } from '../domain/import/map-orders';
import type { RejectReason } from '../domain/import/rejections';
import type { Table } from '../domain/import/table';
import type { AppliedStep } from '../domain/sync/order-sync.policy';
import type { ImportReport } from './import-report';

/** What channel-gateway knows of one platform order (one row per (channel, channel order id)). */
export interface ChannelOrderRecord {
  channel: Channel;
  channelOrderId: string;
  orderId: string;
  /** Steps applied through order-intake, and the platform lock episodes seen (LockMark). */
  appliedSteps: AppliedStep[];
  fingerprint: string;
  profileId: string;
  profileVersion: number;
  touchedByPerson: boolean;
  lastRunId: string | null;
}

export interface QuarantineEntry {
  id: string;
  runId: string | null;
  channel: Channel;
  channelOrderId: string | null;
  profileId: string;
  profileVersion: number;
  orderTable: Table;
  itemsTable: Table | null;
  reasons: RejectReason[];
  /** The order's shop (null: quarantined before entries kept it, seen by all-shop users only). */
  shopId: string | null;
  status: 'open' | 'resolved';
  createdAt: string;
  resolvedAt: string | null;
}

export interface IngestStats {
  channel: string;
  /** Orders known to channel-gateway (imported or synced). */
  ingested: number;
  /** Of those, orders a person had to fix in the quarantine. */
  touchedByPerson: number;
  /** Orders still in the quarantine. */
  quarantined: number;
  /** (ingested - touchedByPerson) / (ingested + quarantined). */
  autoIngestRate: number;
}

export interface ChannelStore {
  findOrder(channel: Channel, channelOrderId: string): Promise<ChannelOrderRecord | null>;
  /** Inserts or updates the record with its draft, raw rows and profile version. */
  saveOrder(record: ChannelOrderRecord, draft: ChannelOrderDraft): Promise<void>;
  /** Orders mapped by a file profile below a version, with their raw rows and row numbers (re-mapping). */
  ordersMappedBelow(profileId: string, version: number): Promise<{ channel: Channel; channelOrderId: string; rowNumbers: number[]; rawRows: Record<string, string>[] }[]>;
  /** An unfinished run of the same file(s) with the same profile, to resume; else null. */
  findUnfinishedRun(key: RunKey): Promise<string | null>;
  startRun(runId: string, key: RunKey, fileName: string): Promise<void>;
  finishRun(runId: string, report: ImportReport): Promise<void>;
  getRun(runId: string): Promise<{ status: string; report: ImportReport | null } | null>;
  /** Opens (or refreshes) the quarantine entry of an order; returns its id. */
  quarantine(entry: Omit<QuarantineEntry, 'id' | 'status' | 'createdAt' | 'resolvedAt'>): Promise<string>;
  /** `shops`: only entries of these shops (a shop-limited caller); undefined: every entry. */
  listQuarantine(channel?: Channel, shops?: readonly string[]): Promise<QuarantineEntry[]>;
  getQuarantine(id: string): Promise<QuarantineEntry | null>;
  updateQuarantine(id: string, orderTable: Table, itemsTable: Table | null, reasons: RejectReason[]): Promise<void>;
  resolveQuarantine(id: string): Promise<void>;
  /** Closes the open quarantine entry of an order that has now been imported (e.g. from a corrected file). */
  resolveQuarantineOf(channel: Channel, channelOrderId: string): Promise<void>;
  ingestStats(): Promise<IngestStats[]>;
  /** Where a shop's incremental pull has got to (end of the last window fully synced). */
  checkpoint(platform: string, shopId: string): Promise<string | null>;
  saveCheckpoint(platform: string, shopId: string, windowEnd: string): Promise<void>;
  checkpoints(): Promise<{ platform: string; shopId: string; checkpoint: string; updatedAt: string }[]>;
}

export interface RunKey {
  channel: Channel;
  profileId: string;
  profileVersion: number;
  fileSha256: string;
  itemsSha256: string | null;
}
