/**
 * One open-loop step of placed-and-paid orders, shared by the end-to-end and hot SKU workloads.
 *
 * Flowline: POST /api/orders, then POST /api/orders/{id}/payments with the amount due (or one POST
 * with the payment: BENCH_E2E_PAY=with-placement, see payFlow); the order
 * is done when tracking's live stream pushes it in stage ready_to_ship (its projection row is
 * committed and visible to any reader). The OrderReadyToShip event on orders.events.v1 is timed too,
 * which splits the time into the order flow (intake -> inventory -> intake -> relay) and tracking's
 * projection. Latency counts from each order's *intended* send time (open loop).
 *
 * Baseline: POST /api/orders decides the final status (ready_to_ship or exception) in the same
 * transaction, so its end-to-end time is the POST's.
 */
import { percentile, round } from './harness';
import type { OrderIntakeClient } from '@flowline/clients';
import type { HttpClient } from './http';
import { benchOrder, type OrderShape } from './orders';
import { openLoop } from './pacing';

/** Tells when an order was seen done (performance.now()), or undefined. */
export type DoneAt = (orderId: string) => number | undefined;

export interface StepOptions {
  rate: number;
  durationSec: number;
  shape: OrderShape;
  /** Sequence offset so order ids never repeat across steps. */
  nextIndex: () => number;
  /** Drain: how long to wait after the last send for the stragglers. */
  drainSec?: number;
}

export interface StepResult {
  rate: number;
  durationSec: number;
  /** Orders whose requests all succeeded. */
  accepted: number;
  failed: number;
  skipped: number;
  /** Accepted orders not done when the drain ended (counted as infinitely late in the percentiles). */
  unfinished: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Extra percentiles by name (e.g. to OrderReadyToShip on Kafka). */
  extra: Record<string, number>;
  /** Most accepted-but-not-done orders at any sample during the step: the lag. */
  maxBacklog: number;
  /** Time from the last send until every accepted order was done (ms), or null if not all were. */
  drainMs: number | null;
  /** The client's own lateness: if large, the load generator, not the system, set the pace. */
  clientLagMs: number;
  failures: Record<string, number>;
}

export const P99_BUDGET_MS = 1_000;
/** The end-of-step queue must clear within this: lag stays bounded rather than growing. */
export const DRAIN_BUDGET_MS = 2_000;

/** Held: p99 within 1 s, nothing lost or failed beyond 0.1%, client kept pace, queue cleared. */
export function held(r: StepResult): boolean {
  const total = r.accepted + r.failed + r.skipped;
  return (
    r.p99Ms <= P99_BUDGET_MS &&
    r.failed + r.skipped <= total * 0.001 &&
    r.unfinished === 0 &&
    r.drainMs !== null &&
    r.drainMs <= DRAIN_BUDGET_MS &&
    r.clientLagMs < 200
  );
}

interface Rec {
  t0: number;
  orderId?: string;
}

function summarise(o: StepOptions, recs: Rec[], doneAt: DoneAt, others: Record<string, DoneAt>, failures: Record<string, number>, loop: { skipped: number; maxSendLagMs: number }, maxBacklog: number, drainMs: number | null): StepResult {
  const accepted = recs.filter((r): r is Rec & { orderId: string } => r.orderId !== undefined);
  const lat = (f: DoneAt) => accepted.map((r) => (f(r.orderId) ?? Infinity) - r.t0);
  const main = lat(doneAt);
  const unfinished = main.filter((v) => v === Infinity).length;
  const extra: Record<string, number> = {};
  for (const [name, f] of Object.entries(others)) {
    const l = lat(f);
    extra[`${name} p50`] = round(percentile(l, 50), 0);
    extra[`${name} p99`] = round(percentile(l, 99), 0);
  }
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return {
    rate: o.rate,
    durationSec: o.durationSec,
    accepted: accepted.length,
    failed,
    skipped: loop.skipped,
    unfinished,
    p50Ms: round(percentile(main, 50), 0),
    p99Ms: round(percentile(main, 99), 0),
    maxMs: round(main.reduce((a, b) => Math.max(a, b), 0), 0),
    extra,
    maxBacklog,
    drainMs: drainMs === null ? null : round(drainMs, 0),
    clientLagMs: round(loop.maxSendLagMs, 0),
    failures,
  };
}

/**
 * How Flowline's orders get paid: `separate` (default) POST /api/orders then POST .../payments, as a
 * seller's staff confirm a payment; `with-placement` (BENCH_E2E_PAY=with-placement) one POST with
 * `payment`, as an order that arrives paid (platform sync, web-store checkout). The baseline's one
 * POST is the same in both.
 */
export function payFlow(env: NodeJS.ProcessEnv = process.env): 'separate' | 'with-placement' {
  const v = env.BENCH_E2E_PAY ?? 'separate';
  if (v !== 'separate' && v !== 'with-placement') throw new Error(`BENCH_E2E_PAY must be separate or with-placement, not ${JSON.stringify(v)}`);
  return v;
}

/** Placed-and-paid orders against Flowline at `rate` for `durationSec` (paid as `payFlow()` says). */
export async function flowlineStep(o: StepOptions, intake: OrderIntakeClient, doneAt: DoneAt, others: Record<string, DoneAt> = {}): Promise<StepResult> {
  const withPayment = payFlow() === 'with-placement';
  const recs: Rec[] = [];
  const failures: Record<string, number> = {};
  const fail = (why: string) => (failures[why] = (failures[why] ?? 0) + 1);
  let maxBacklog = 0;
  const paidIds: string[] = [];
  let doneCount = 0;
  const sampler = setInterval(() => {
    // Backlog: paid orders tracking has not shown ready yet (scan only the unfinished tail).
    while (doneCount < paidIds.length && doneAt(paidIds[doneCount]) !== undefined) doneCount++;
    let pending = 0;
    for (let i = doneCount; i < paidIds.length; i++) if (doneAt(paidIds[i]) === undefined) pending++;
    maxBacklog = Math.max(maxBacklog, pending);
  }, 500);
  const loop = await openLoop({
    ratePerSec: o.rate,
    durationSec: o.durationSec,
    maxInFlight: 5_000,
    fire: async (_, intended) => {
      const order = benchOrder(o.nextIndex(), o.shape);
      const rec: Rec = { t0: intended };
      recs.push(rec);
      try {
        // The generated typed client (@flowline/clients): a contract change breaks this build.
        const payment = { amount: order.grandTotal, currency: 'CNY' };
        const placed = await intake.POST('/api/orders', {
          body: withPayment ? { ...order.body, payment } : order.body,
          params: { header: { 'Idempotency-Key': order.idempotencyKey } },
        });
        if (placed.response.status !== 201 || !placed.data?.orderId) return void fail(`place HTTP ${placed.response.status}`);
        const id = placed.data.orderId;
        if (!withPayment) {
          const pay = await intake.POST('/api/orders/{orderId}/payments', {
            params: { path: { orderId: id }, header: { 'Idempotency-Key': `${order.idempotencyKey}-pay` } },
            body: payment,
          });
          if (pay.response.status !== 200) return void fail(`pay HTTP ${pay.response.status}`);
        }
        rec.orderId = id;
        paidIds.push(id);
      } catch (e) {
        fail(e instanceof Error ? e.message.slice(0, 60) : 'error');
      }
    },
  });
  const lastSend = performance.now();
  const drainDeadline = lastSend + (o.drainSec ?? 10) * 1000;
  let drainMs: number | null = null;
  while (performance.now() < drainDeadline) {
    if (paidIds.every((id) => doneAt(id) !== undefined)) {
      drainMs = paidIds.reduce((m, id) => Math.max(m, doneAt(id) ?? m), lastSend) - lastSend;
      break;
    }
    await new Promise((w) => setTimeout(w, 100));
  }
  clearInterval(sampler);
  return summarise(o, recs, doneAt, others, failures, loop, maxBacklog, drainMs);
}

/** The same orders against the baseline: one POST each, final status in the answer. */
export async function baselineStep(o: StepOptions, baseline: HttpClient, expectStatus = 'ready_to_ship'): Promise<StepResult> {
  const recs: Rec[] = [];
  const doneTimes = new Map<string, number>();
  const failures: Record<string, number> = {};
  const fail = (why: string) => (failures[why] = (failures[why] ?? 0) + 1);
  let inFlightMax = 0;
  let inFlight = 0;
  const loop = await openLoop({
    ratePerSec: o.rate,
    durationSec: o.durationSec,
    maxInFlight: 5_000,
    fire: async (_, intended) => {
      const order = benchOrder(o.nextIndex(), o.shape);
      const rec: Rec = { t0: intended };
      recs.push(rec);
      inFlightMax = Math.max(inFlightMax, ++inFlight);
      try {
        const r = await baseline.post<{ id?: string; status?: string }>('/api/orders', order.body, { 'idempotency-key': order.idempotencyKey });
        if (r.status !== 201 || !r.body.id) return void fail(`HTTP ${r.status}`);
        if (r.body.status !== expectStatus) fail(`status ${r.body.status}`);
        rec.orderId = r.body.id;
        doneTimes.set(r.body.id, performance.now());
      } catch (e) {
        fail(e instanceof Error ? e.message.slice(0, 60) : 'error');
      } finally {
        inFlight--;
      }
    },
  });
  return summarise(o, recs, (id) => doneTimes.get(id), {}, failures, loop, inFlightMax, 0);
}

export function describeStep(r: StepResult): string {
  const extra = Object.entries(r.extra)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ');
  const fails = Object.keys(r.failures).length ? ` failures ${JSON.stringify(r.failures)}` : '';
  return `${r.rate}/s x ${r.durationSec} s: ${r.accepted} ok, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms${extra ? ` (${extra})` : ''}, backlog max ${r.maxBacklog}, drain ${r.drainMs ?? '>timeout'} ms, unfinished ${r.unfinished}, skipped ${r.skipped}, client lag ${r.clientLagMs} ms${fails} -> ${held(r) ? 'held' : 'NOT held'}`;
}
