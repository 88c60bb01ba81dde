import { createHash } from 'node:crypto';
import type { Channel, OrderSubmission } from '@flowline/contracts';
import { DomainError, isDomainError } from '@flowline/domain';
import { requestHash } from '@flowline/platform';
import { ulid } from 'ulid';
import { ApiPayloadError, fromApiPayload, type ApiOrigin } from '../domain/connectors/api-mapping';
import { applyGiftRules, giftTag, type GiftRuleSet } from '../domain/gifts/gift-rules';
import { mapOrders, type ChannelOrderDraft, type RejectedOrder } from '../domain/import/map-orders';
import type { MappingProfile } from '../domain/import/profile';
import { reason, type RejectReason } from '../domain/import/rejections';
import { placeOrderProblems, toSubmission } from '../domain/import/submission';
import type { Table } from '../domain/import/table';
import { lockMarksSeen, planSync, reopenedAfterTerminal, type AppliedStep, type SyncAction, type SyncStep } from '../domain/sync/order-sync.policy';
import type { ChannelStore, QuarantineEntry } from './channel-store.port';
import type { ImportReport, RefusedChangeReport } from './import-report';
import { OrderCommandRefused, type OrderIntakePort, type PaymentBody, type PlacedOrder } from './order-intake.port';

export interface UploadedFile {
  name: string;
  bytes: Buffer;
}

export interface ReadTableResult {
  table: Table;
  format: 'csv' | 'xlsx' | 'html';
  encoding: string;
  bom: boolean;
}

export interface ImportRequest {
  channel: Channel;
  file: UploadedFile;
  items?: UploadedFile;
  profileId?: string;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportDeps {
  store: ChannelStore;
  orderIntake: OrderIntakePort;
  profiles: { resolve(channel: Channel, profileId?: string): MappingProfile; get(id: string, version?: number): MappingProfile; list?(): MappingProfile[]; reload?(): void };
  readTable(bytes: Buffer, fileName: string): Promise<ReadTableResult>;
  now(): Date;
  metrics?: { ingested(channel: string, byPerson: boolean): void; rejected(channel: string, codes: string[]): void };
  /** The current gift rule set (赠品策略), applied when an order is placed; none when absent. */
  giftRules?: () => GiftRuleSet | null;
  /** The configured shop id of an export's shop name in a channel (CHANNEL_IMPORT_SHOPS); none: the name stays the id. */
  shopIdOf?: (channel: string, name: string) => string | undefined;
}

export type SyncOutcome =
  | { kind: 'imported' | 'duplicate' | 'updated'; orderId: string; refused: RefusedChangeReport[] }
  /**
   * A known order the platform moved back from an end the flow recorded (cancelled / refunded, e.g.
   * JD 锁定 taken for a close, then 等待出库 again): nothing applied, not a duplicate; in `refused`.
   */
  | { kind: 'refused'; orderId: string; refused: RefusedChangeReport[] }
  /** A group-buy order whose group has not formed (or failed): not placed; the platform's next change brings it back. */
  | { kind: 'waiting'; platformStatus: string }
  | { kind: 'rejected'; reasons: RejectReason[] };

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The draft without its row positions: two exports of an unchanged order fingerprint the same. */
export function draftFingerprint(d: ChannelOrderDraft): string {
  const { rowNumbers: _rows, rawRows: _raw, fieldColumns: _columns, unconfirmedRepeatRows: _repeats, ...rest } = d;
  return requestHash(rest);
}

/**
 * Has an order order-intake returned as it stands been paid what `step` pays? A deposit: any payment
 * recorded; the full payment (or a presale balance): paid up to the grand total.
 */
/** A payment step as order-intake takes it: CNY, the platform's reference and pay time. */
function paymentBody(a: Extract<SyncAction, { step: 'paid' | 'depositPaid' }>): PaymentBody {
  return { amount: a.amount, currency: 'CNY', paymentRef: a.paymentRef, ...(a.paidAt ? { paidAt: a.paidAt } : {}) };
}

export function alreadyPaid(order: Pick<PlacedOrder, 'paidTotal' | 'grandTotal'>, step: 'paid' | 'depositPaid'): boolean {
  if (order.paidTotal === null) return false;
  return step === 'depositPaid' || order.paidTotal >= order.grandTotal;
}

/**
 * Refusals of the one call (place with the payment) after which the order is placed alone: the
 * payment refused (amount, currency, a payment the order cannot take), the key already used with
 * another body (the export changed after a run that stopped before recording the call), or a
 * person's token (a quarantine fix) that may place orders but not confirm payments: the payment is
 * the platform's fact, and its step goes with channel-gateway's own credentials, as it always has.
 */
const FALL_BACK_TO_PLACING_ALONE = new Set(['PAYMENT_AMOUNT_MISMATCH', 'PAYMENT_CURRENCY_MISMATCH', 'ORDER_INVALID', 'ORDER_BALANCE_NOT_DUE', 'IDEMPOTENCY_KEY_REUSED', 'FORBIDDEN']);

/** Idempotency-Key of one step of one platform order in order-intake. */
export const stepKey = (channel: string, channelOrderId: string, step: SyncStep) => `channel-gateway:${channel}:${channelOrderId}:${step}`;

/**
 * Idempotency-Key of an action: its step's, except a platform lock's hold after the first lock
 * episode (`held:lock-<n>`): each lock is its own hold, the first keeps the key it always had.
 */
export const actionKey = (channel: string, channelOrderId: string, a: SyncAction) =>
  a.step === 'held' && a.lockEpisode !== undefined && a.lockEpisode > 1 ? `${stepKey(channel, channelOrderId, 'held')}:lock-${a.lockEpisode}` : stepKey(channel, channelOrderId, a.step);

/**
 * File imports and platform status sync: map the export with its profile, then for each order
 * place it in order-intake and apply what the platform says happened (payment, close, refund)
 * through order-intake's command API. Every step has a stable Idempotency-Key and is recorded as
 * soon as it is applied, so a run killed anywhere and run again applies each step once; a file
 * imported twice is a no-op. Rows that cannot be mapped go to the quarantine.
 */
export class ImportService {
  constructor(private readonly deps: ImportDeps) {}

  /** The shop-name mapping of a channel for mapOrders. */
  private shops(channel: string): { shopIdOf?: (name: string) => string | undefined } {
    const of = this.deps.shopIdOf;
    return of ? { shopIdOf: (name) => of(channel, name) } : {};
  }

  async run(req: ImportRequest): Promise<ImportReport> {
    const { store } = this.deps;
    const startedAt = this.deps.now().toISOString();
    this.deps.profiles.reload?.();
    const profile = this.deps.profiles.resolve(req.channel, req.profileId);
    const main = await this.deps.readTable(req.file.bytes, req.file.name);
    const items = req.items ? await this.deps.readTable(req.items.bytes, req.items.name) : undefined;
    const mapped = this.mapOrSuggest(req, profile, main.table, items?.table);
    const key = {
      channel: req.channel,
      profileId: profile.id,
      profileVersion: profile.version,
      fileSha256: sha256(req.file.bytes),
      itemsSha256: req.items ? sha256(req.items.bytes) : null,
    };
    const dryRun = req.dryRun === true;
    const resumeOf = dryRun ? null : await store.findUnfinishedRun(key);
    const runId = resumeOf ?? ulid();
    if (!dryRun && !resumeOf) await store.startRun(runId, key, req.file.name);

    const report: ImportReport = {
      runId,
      resumed: resumeOf !== null,
      dryRun,
      channel: req.channel,
      profile: { id: profile.id, version: profile.version },
      file: { name: req.file.name, sha256: key.fileSha256, format: main.format, encoding: main.encoding, bom: main.bom },
      ...(req.items && items ? { itemsFile: { name: req.items.name, sha256: key.itemsSha256 as string, encoding: items.encoding } } : {}),
      ...mapped.stats,
      // Rows with no order id are rows, not orders: reported below, not counted here.
      ordersSeen: mapped.drafts.length + mapped.rejected.filter((r) => r.channelOrderId !== null).length,
      imported: 0,
      duplicates: 0,
      updated: 0,
      waiting: 0,
      rejected: [],
      refusedChanges: [],
      autoIngestRate: 1,
      startedAt,
      finishedAt: startedAt,
    };
    const total = mapped.drafts.length + mapped.rejected.length;
    let done = 0;
    for (const r of mapped.rejected) {
      // A row with no order id is listed in the report with its row number, not quarantined: the
      // quarantine is keyed by order, and each upload of the file would add the row again.
      const quarantineId = dryRun || r.channelOrderId === null ? null : await this.quarantine(runId, profile, req.channel, r, main.table, items?.table);
      report.rejected.push({ quarantineId, channelOrderId: r.channelOrderId, rowNumbers: r.rowNumbers, reasons: r.reasons });
      this.deps.metrics?.rejected(req.channel, r.reasons.map((x) => x.code));
      req.onProgress?.(++done, total);
    }
    for (const d of mapped.drafts) {
      if (dryRun) {
        // What sync would do, up to its first write: the same record, plan and pre-flight checks.
        const out = await this.preview(d);
        if (out.kind === 'rejected') report.rejected.push({ quarantineId: null, channelOrderId: d.channelOrderId, rowNumbers: d.rowNumbers, reasons: out.reasons });
        else if (out.kind === 'refused') report.refusedChanges.push(...out.refused);
        else report[out.kind === 'duplicate' ? 'duplicates' : out.kind] += 1;
      } else {
        const out = await this.sync(d, profile, runId, false);
        if (out.kind === 'rejected') {
          const raw: RejectedOrder = { channelOrderId: d.channelOrderId, rowNumbers: d.rowNumbers, itemRowNumbers: [], reasons: out.reasons, rawRows: d.rawRows, shopId: d.shopId };
          const quarantineId = await this.quarantine(runId, profile, req.channel, raw, main.table, items?.table, d.channelOrderId);
          report.rejected.push({ quarantineId, channelOrderId: d.channelOrderId, rowNumbers: d.rowNumbers, reasons: out.reasons });
          this.deps.metrics?.rejected(req.channel, out.reasons.map((x) => x.code));
        } else if (out.kind === 'waiting') {
          report.waiting += 1;
        } else if (out.kind === 'refused') {
          // Neither imported nor a duplicate: a person must look (counted against the auto-ingest rate).
          report.refusedChanges.push(...out.refused);
        } else {
          report[out.kind === 'imported' ? 'imported' : out.kind === 'updated' ? 'updated' : 'duplicates'] += 1;
          report.refusedChanges.push(...out.refused);
        }
      }
      req.onProgress?.(++done, total);
    }
    report.rejected.sort((a, b) => (a.rowNumbers[0] ?? 0) - (b.rowNumbers[0] ?? 0));
    const ok = report.imported + report.duplicates + report.updated;
    // Orders waiting for their group are neither ingested nor failures: left out of the rate.
    const counted = report.ordersSeen - report.waiting;
    report.autoIngestRate = counted === 0 ? 1 : ok / counted;
    report.finishedAt = this.deps.now().toISOString();
    if (!dryRun) await store.finishRun(runId, report);
    return report;
  }

  /**
   * Maps the file with the profile; when the channel's default layout lacks the file's columns, the
   * refusal names the profiles whose columns the file does have (a Tmall seller uploading the
   * classic 订单报表 is told to pass `profile: taobao-classic`).
   */
  private mapOrSuggest(req: ImportRequest, profile: MappingProfile, table: Table, items?: Table): ReturnType<typeof mapOrders> {
    try {
      return mapOrders({ ...profile, channel: req.channel }, table, items, this.shops(req.channel));
    } catch (e) {
      if (!isDomainError(e) || e.code !== 'IMPORT_COLUMNS_MISSING' || req.profileId) throw e;
      let itemsFile: DomainError | null = null;
      const fits = (this.deps.profiles.list?.() ?? [])
        .filter((p) => p.id !== profile.id)
        .filter((p) => {
          try {
            mapOrders({ ...p, channel: req.channel }, table, items, this.shops(req.channel));
            return true;
          } catch (other) {
            // A 宝贝报表 sent alone (as the order file): that is what the seller is told.
            if (isDomainError(other) && other.details.itemsFileAsOrderFile === true) itemsFile ??= other;
            // The order file fits; the layout only wants its items file (宝贝报表) beside it.
            return isDomainError(other) && other.code === 'IMPORT_ITEMS_FILE_REQUIRED';
          }
        })
        .map((p) => p.id);
      if (fits.length === 0) throw itemsFile ?? e;
      const hint = fits.join(' / ');
      throw new DomainError(e.code, `${e.message}; the file's columns fit profile ${hint}: import it with profile ${fits[0]} (文件的列符合模板 ${hint}，请选择该模板导入)`, { ...e.details, suggestedProfiles: fits }, 'invalid');
    }
  }

  /**
   * The order as PlaceOrder gets it: the draft with the gift rules' lines and tags, and what
   * order-intake would refuse in it (checked before the call, so a dry run refuses the same).
   */
  private placement(d: ChannelOrderDraft): { draft: ChannelOrderDraft; submission: OrderSubmission; problems: RejectReason[] } {
    const gifts = applyGiftRules(d, this.deps.giftRules?.() ?? null);
    const submission = toSubmission(gifts.draft);
    submission.tags = [...submission.tags, ...gifts.applied.map(giftTag)];
    const problems = placeOrderProblems(submission, this.deps.now().toISOString()).map((p) => reason.orderInvalid(p, d.fieldColumns?.[p.field]));
    return { draft: gifts.draft, submission, problems };
  }

  /**
   * A dry run of sync: what it would do with the order (new, known and unchanged, known with status
   * changes to apply, waiting for its group, refused before placing), read from the same record and
   * plan, nothing written. Refusals only order-intake can know (a status change its flow does not
   * allow) are not foreseen.
   */
  private async preview(
    d: ChannelOrderDraft,
  ): Promise<{ kind: 'imported' | 'duplicate' | 'updated' | 'waiting' } | { kind: 'refused'; refused: RefusedChangeReport[] } | { kind: 'rejected'; reasons: RejectReason[] }> {
    const rec = await this.deps.store.findOrder(d.channel, d.channelOrderId);
    const applied = new Set<AppliedStep>(rec?.appliedSteps ?? []);
    for (const mark of lockMarksSeen(d, applied)) applied.add(mark);
    const actions = planSync(d, applied);
    if (actions.length === 0) {
      const reopened = rec ? reopenedAfterTerminal(d, applied) : null;
      if (rec && reopened) return { kind: 'refused', refused: [{ channelOrderId: d.channelOrderId, orderId: rec.orderId, step: 'reopened', code: 'PLATFORM_STATUS_REOPENED', message: reopened }] };
      return { kind: rec ? 'duplicate' : 'waiting' };
    }
    if (actions[0]?.step === 'placed') {
      const { problems } = this.placement(d);
      if (problems.length) return { kind: 'rejected', reasons: problems };
    }
    return { kind: rec ? 'updated' : 'imported' };
  }

  /**
   * PlaceOrder, with the payment when the platform order is paid already (the plan's next step pays
   * it): one call and one commit in order-intake instead of two, under its own Idempotency-Key
   * (`placed+paid` / `placed+depositPaid`), so a placement sent alone before (the `placed` key) is
   * never reused with another body. When order-intake refuses the one call for a reason placing
   * alone may not share (FALL_BACK_TO_PLACING_ALONE), the order is placed alone and its payment
   * step runs on its own, as before this call existed: a payment order-intake refuses stays a
   * refused step of a placed order, reported as such, rather than keeping the order out. Other
   * refusals (rate limit, authentication) are the placement's, as before.
   *
   * `paid`: the payment step is done, because this call made it or because the order order-intake
   * returned (it had it already: a run that placed it paid and stopped before recording so, a
   * record lost) is paid already (`alreadyPaid`); sending the payment again would be refused as not
   * due and hold back the platform's later steps.
   */
  private async placeMaybePaid(
    d: ChannelOrderDraft,
    submission: OrderSubmission,
    payment: Extract<SyncAction, { step: 'paid' | 'depositPaid' }> | undefined,
    person: { id: string; role?: string; bearer?: string } | undefined,
  ): Promise<{ orderId: string; paid: boolean }> {
    const { orderIntake } = this.deps;
    if (payment) {
      try {
        const key = `${stepKey(d.channel, d.channelOrderId, 'placed')}+${payment.step}`;
        const r = await orderIntake.place(submission, key, person, paymentBody(payment));
        return { orderId: r.orderId, paid: r.created || alreadyPaid(r, payment.step) };
      } catch (e) {
        if (!(e instanceof OrderCommandRefused) || !FALL_BACK_TO_PLACING_ALONE.has(e.code)) throw e;
      }
    }
    const r = await orderIntake.place(submission, stepKey(d.channel, d.channelOrderId, 'placed'), person);
    return { orderId: r.orderId, paid: !!payment && !r.created && alreadyPaid(r, payment.step) };
  }

  /** Places a platform order if new and applies the platform's status changes through the order flow. */
  async sync(d: ChannelOrderDraft, profile: { id: string; version: number }, runId: string | null, touchedByPerson: boolean, person?: { id: string; role?: string; bearer?: string }): Promise<SyncOutcome> {
    const { store, orderIntake } = this.deps;
    const fingerprint = draftFingerprint(d);
    const rec = await store.findOrder(d.channel, d.channelOrderId);
    const applied = new Set<AppliedStep>(rec?.appliedSteps ?? []);
    // What the platform's view adds to the order's lock history (seen unlocked: the next lock holds again).
    const marks = lockMarksSeen(d, applied);
    for (const mark of marks) applied.add(mark);
    const appliedBefore = applied.size;
    const actions = planSync(d, applied);
    if (!rec && actions.length === 0) return { kind: 'waiting', platformStatus: d.platformStatus };
    if (rec && actions.length === 0) {
      if (rec.fingerprint !== fingerprint || rec.lastRunId !== runId || marks.length > 0) {
        await store.saveOrder({ ...rec, appliedSteps: [...applied], fingerprint, profileId: profile.id, profileVersion: profile.version, touchedByPerson: rec.touchedByPerson || touchedByPerson, lastRunId: runId }, d);
      }
      // Back from a cancel or a refund the flow recorded: never undone, never a silent duplicate.
      const reopened = reopenedAfterTerminal(d, applied);
      if (reopened) return { kind: 'refused', orderId: rec.orderId, refused: [{ channelOrderId: d.channelOrderId, orderId: rec.orderId, step: 'reopened', code: 'PLATFORM_STATUS_REOPENED', message: reopened }] };
      // A run resumed after an interruption counts what it had already done itself as imported.
      return { kind: rec.lastRunId === runId && runId !== null ? 'imported' : 'duplicate', orderId: rec.orderId, refused: [] };
    }
    let orderId = rec?.orderId ?? '';
    let created = false;
    const refused: RefusedChangeReport[] = [];
    // The draft as placed (with its gift lines) is what channel-gateway keeps for the order.
    let giftDraft: ChannelOrderDraft = d;
    const save = () =>
      store.saveOrder(
        { channel: d.channel, channelOrderId: d.channelOrderId, orderId, appliedSteps: [...applied], fingerprint, profileId: profile.id, profileVersion: profile.version, touchedByPerson: (rec?.touchedByPerson ?? false) || touchedByPerson, lastRunId: runId },
        giftDraft,
      );
    // The payment step paid together with the placement (its index in `actions`), when it was.
    let paidWithPlacement = -1;
    for (const [i, a] of actions.entries()) {
      if (i === paidWithPlacement) continue;
      const key = actionKey(d.channel, d.channelOrderId, a);
      // A lock's hold is recorded as its episode's too (lockMarksSeen, planSync).
      const record = () => {
        applied.add(a.step);
        if (a.step === 'held' && a.lockEpisode !== undefined) applied.add(`lock:${a.lockEpisode}:held`);
      };
      try {
        switch (a.step) {
          case 'placed': {
            // Gift rules add zero-price lines (reserved with the order); each rule applied is tagged with the rule-set version.
            const placing = this.placement(d);
            if (placing.problems.length) return { kind: 'rejected', reasons: placing.problems };
            const { submission } = placing;
            giftDraft = placing.draft;
            const next = actions[i + 1];
            const payment = next?.step === 'paid' || next?.step === 'depositPaid' ? next : undefined;
            const r = await this.placeMaybePaid(d, submission, payment, touchedByPerson ? (person ?? { id: 'quarantine-fix', role: 'customer_service' }) : undefined);
            orderId = r.orderId;
            created = true;
            if (payment && r.paid) {
              // Recorded with the placement below (one record write for both), in plan order.
              applied.add(a.step).add(payment.step);
              paidWithPlacement = i + 1;
            }
            break;
          }
          case 'held':
            await orderIntake.hold(orderId, a.reason, key);
            break;
          case 'depositPaid':
          case 'paid':
            await orderIntake.confirmPayment(orderId, paymentBody(a), key);
            break;
          case 'cancelled':
            await orderIntake.cancel(orderId, a.reason, key);
            break;
          case 'refundRequested':
            await orderIntake.requestRefund(orderId, a.amount, a.reason, key);
            break;
          case 'refunded':
            await orderIntake.confirmRefund(orderId, a.amount, key);
            break;
        }
      } catch (e) {
        if (!(e instanceof OrderCommandRefused)) throw e;
        if (a.step === 'placed') return { kind: 'rejected', reasons: [reason.refused(e.code, e.message)] };
        // Already on hold (a flow rule or a person held it first): the hold this step asks for holds.
        if (a.step === 'held' && e.code === 'ORDER_ALREADY_ON_HOLD') {
          record();
          await save();
          continue;
        }
        refused.push({ channelOrderId: d.channelOrderId, orderId, step: a.step, code: e.code, message: e.message });
        break;
      }
      record();
      await save();
    }
    if (refused.length) await save();
    if (created) {
      await store.resolveQuarantineOf(d.channel, d.channelOrderId);
      this.deps.metrics?.ingested(d.channel, touchedByPerson);
    }
    // New, or placed by this same run before it was interrupted: imported.
    if (!rec || (runId !== null && rec.lastRunId === runId)) return { kind: 'imported', orderId, refused };
    return { kind: applied.size > appliedBefore ? 'updated' : 'duplicate', orderId, refused };
  }

  /**
   * Re-mapping by replay after a profile fix: every order mapped with an older version of the
   * profile is mapped again from its stored raw rows with the current version and synced (status
   * changes the new mapping reveals go through the flow; the record keeps the new version). An order
   * the new version cannot map is left as it is and reported.
   */
  async remap(profileId: string): Promise<{ profile: { id: string; version: number }; orders: number; updated: number; unchanged: number; failed: { channelOrderId: string; reasons: RejectReason[] }[] }> {
    this.deps.profiles.reload?.();
    const profile = this.deps.profiles.get(profileId);
    const rows = await this.deps.store.ordersMappedBelow(profile.id, profile.version);
    const out = { profile: { id: profile.id, version: profile.version }, orders: rows.length, updated: 0, unchanged: 0, failed: [] as { channelOrderId: string; reasons: RejectReason[] }[] };
    for (const r of rows) {
      const toTable = (raws: Record<string, string>[], first: number): Table => {
        const headers = Object.keys(raws[0] ?? {});
        return { headers, rows: raws.map((x, i) => ({ rowNumber: first + i, cells: headers.map((h) => x[h] ?? '') })) };
      };
      const orderRaws = r.rawRows.slice(0, Math.max(1, r.rowNumbers.length));
      const itemRaws = r.rawRows.slice(orderRaws.length);
      const mapped = mapOrders({ ...profile, channel: r.channel }, toTable(orderRaws, r.rowNumbers[0] ?? 2), profile.lines.from === 'items-file' ? toTable(itemRaws, 2) : undefined, {
        ...this.shops(r.channel),
        // Imported before: its file's id columns were judged not zero-filled (one order alone cannot tell).
        zeroFilledIds: false,
      });
      const draft = mapped.drafts[0];
      if (!draft) {
        out.failed.push({ channelOrderId: r.channelOrderId, reasons: mapped.rejected[0]?.reasons ?? [] });
        continue;
      }
      const res = await this.sync({ ...draft, rowNumbers: r.rowNumbers }, profile, null, false);
      if (res.kind === 'rejected') out.failed.push({ channelOrderId: r.channelOrderId, reasons: res.reasons });
      else if (res.kind === 'refused') out.failed.push({ channelOrderId: r.channelOrderId, reasons: res.refused.map((x) => ({ code: 'ORDER_REFUSED', zh: x.message, en: x.message })) });
      else if (res.kind === 'updated') out.updated += 1;
      else out.unchanged += 1;
    }
    return out;
  }

  private async quarantine(runId: string, profile: MappingProfile, channel: Channel, r: RejectedOrder, main: Table, items?: Table, id?: string): Promise<string> {
    const pick = (t: Table, rows: number[]): Table => ({ headers: t.headers, rows: t.rows.filter((x) => rows.includes(x.rowNumber)) });
    return this.deps.store.quarantine({
      runId,
      channel,
      channelOrderId: id ?? r.channelOrderId,
      profileId: profile.id,
      profileVersion: profile.version,
      orderTable: pick(main, r.rowNumbers),
      itemsTable: items ? pick(items, r.itemRowNumbers) : null,
      reasons: r.reasons,
      shopId: r.shopId,
    });
  }

  /**
   * A person's fix of a quarantined order: cells set by row number and column (as the file names
   * it), then mapped again with the profile's current version and synced. The order counts as
   * touched by a person in the auto-ingest rate. Still bad -> the entry stays open with the new reasons.
   */
  async fixQuarantined(
    id: string,
    edits: { rowNumber: number; column: string; value: string; file?: 'order' | 'items' }[],
    person?: { id: string; role?: string; bearer?: string },
    /** The caller's shops (undefined: every shop): another shop's entry is answered as an unknown one. */
    shops?: readonly string[],
  ): Promise<{ entry: QuarantineEntry; outcome: SyncOutcome }> {
    const { store } = this.deps;
    const entry = await store.getQuarantine(id);
    if (!entry || (shops && !(entry.shopId && shops.includes(entry.shopId)))) throw new DomainError('QUARANTINE_NOT_FOUND', `no quarantine entry ${id}`, { id }, 'not_found');
    if (entry.status !== 'open') throw new DomainError('QUARANTINE_RESOLVED', `quarantine entry ${id} is already resolved`, { id });
    const orderTable = structuredClone(entry.orderTable);
    const itemsTable = entry.itemsTable ? structuredClone(entry.itemsTable) : null;
    for (const e of edits) {
      const t = e.file === 'items' ? itemsTable : orderTable;
      if (!t) throw new DomainError('QUARANTINE_EDIT_INVALID', `entry ${id} has no items file`, { field: 'edits.file' }, 'invalid');
      const col = t.headers.findIndex((h) => h.trim() === e.column.trim());
      const row = t.rows.find((r) => r.rowNumber === e.rowNumber);
      if (col < 0) throw new DomainError('QUARANTINE_EDIT_INVALID', `no column ${e.column}`, { field: 'edits.column', column: e.column }, 'invalid');
      if (!row) throw new DomainError('QUARANTINE_EDIT_INVALID', `no row ${e.rowNumber} in entry ${id}`, { field: 'edits.rowNumber', rowNumber: e.rowNumber }, 'invalid');
      while (row.cells.length <= col) row.cells.push('');
      row.cells[col] = e.value;
    }
    let outcome: SyncOutcome;
    if (entry.profileId.startsWith(API_PROFILE_PREFIX)) {
      // An API order: its (corrected) payload mapped again with the platform's API mapping and synced.
      const mappedApi = apiDraftOf(entry, orderTable);
      outcome = 'reasons' in mappedApi ? { kind: 'rejected', reasons: mappedApi.reasons } : await this.sync(mappedApi.draft, { id: entry.profileId, version: entry.profileVersion }, null, true, person);
    } else {
      const profile = this.deps.profiles.get(entry.profileId);
      // The file's verdict on its id columns, which this order's rows alone cannot give (zeroFilledColumn).
      const mapped = mapOrders({ ...profile, channel: entry.channel }, orderTable, itemsTable ?? undefined, { ...this.shops(entry.channel), zeroFilledIds: entry.reasons.some((r) => r.code === 'MANGLED_ID') });
      const draft = mapped.drafts[0];
      if (!draft) outcome = { kind: 'rejected', reasons: mapped.rejected[0]?.reasons ?? [] };
      else outcome = await this.sync(draft, profile, entry.runId, true, person);
    }
    if (outcome.kind === 'rejected') await store.updateQuarantine(id, orderTable, itemsTable, outcome.reasons);
    else await store.resolveQuarantine(id);
    return { entry: (await store.getQuarantine(id)) as QuarantineEntry, outcome };
  }
}

/** Quarantine entries of API orders carry the profile id `api-<platform>` (pull.service.ts). */
export const API_PROFILE_PREFIX = 'api-';
const API_PLATFORMS = ['taobao', 'pinduoduo', 'douyin', 'jd', 'shopify'] as const;

/** The draft of a quarantined API order from its payload cell (as a person left it), or why not. */
export function apiDraftOf(entry: Pick<QuarantineEntry, 'profileId' | 'channel'>, table: Table): { draft: ChannelOrderDraft } | { reasons: RejectReason[] } {
  const platform = entry.profileId.slice(API_PROFILE_PREFIX.length) as ApiOrigin['platform'];
  const cell = (name: string) => {
    const i = table.headers.indexOf(name);
    return i < 0 ? undefined : table.rows[0]?.cells[i];
  };
  const bad = (zh: string, en: string): { reasons: RejectReason[] } => ({ reasons: [{ code: 'BAD_PAYLOAD', zh, en }] });
  const shopId = cell('shopId');
  if (!API_PLATFORMS.includes(platform)) return bad(`未知的接口平台 ${platform}`, `unknown API platform ${platform}`);
  if (!shopId) return bad('该条目没有店铺信息，请等待下次拉单重试', 'the entry has no shop; the next pull retries it');
  let payload: unknown;
  try {
    payload = JSON.parse(cell('payload') ?? '');
  } catch {
    return bad('payload 不是合法的 JSON', 'payload is not valid JSON');
  }
  try {
    const channel = entry.channel === 'tmall' ? 'tmall' : 'taobao';
    return { draft: fromApiPayload({ platform, shopId, channel }, payload) };
  } catch (e) {
    if (!(e instanceof ApiPayloadError)) throw e;
    return bad(`接口数据无法读取：${e.message}`, `order payload unreadable: ${e.message}`);
  }
}
