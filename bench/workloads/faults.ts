/**
 * `npm run bench -- faults` (only when named): the spine's guarantees under faults, on the whole
 * running system. Placed-and-paid single-unit orders at FAULTS_RATE/s (default 10) for FAULTS_SEC
 * (default 60) seconds, a third of them on one scarce SKU (FAULTS_SCARCE units, default 40), while
 * the FAULTS schedule (bench/lib/faults.ts, default DEFAULT_FAULTS) SIGKILLs services (npm start's
 * supervisor restarts them), takes every Flowline database away (connections refused and cut) and
 * stops the Kafka broker (scripts/kafka.sh), each for a while. The client behaves as a platform
 * connector does: a 5xx, 429 or lost answer is retried with the same Idempotency-Key.
 *
 * Then it waits (up to FAULTS_WAIT_SEC, default 180) for the system to settle and reports, through
 * the public APIs only: orders accepted and lost, orders not where the stock puts them, tracking
 * rows that disagree with order-intake, units oversold, reservations lost or doubled, ready orders
 * without exactly one parcel, and how long after the last fault it settled. Not a speed figure: a
 * run that holds every guarantee says `guarantees held: yes`.
 *
 * It only harms what it may: the system the bench started itself (FAULTS_ON_RUNNING=1 lets it work
 * on one already serving, e.g. `npm start`, whose supervisor restarts killed services), the broker
 * scripts/kafka.sh runs from this checkout, and databases on this machine. A database left refusing
 * connections by a run that was killed is opened again when the next run starts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { orderIntakeClient } from '@flowline/clients';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import { DEFAULT_FAULTS, type Fault, type FaultOrder, faultTimes, held, judge, parseFaults, type StockLevel } from '../lib/faults';
import { atBenchEnd, type Figures, round } from '../lib/harness';
import { HttpClient } from '../lib/http';
import { benchOrder, newRunId } from '../lib/orders';
import { openLoop } from '../lib/pacing';
import { pidListeningOn } from '../lib/procs';
import { ensureFlowlineStock, WAREHOUSE } from '../lib/stock';
import { ensureSystem, ROOT, serverUrl } from '../lib/system';

const exec = promisify(execFile);

const log = (m: string) => console.log(`[faults] ${new Date().toISOString().slice(11, 23)} ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a connector retries: no answer, a 5xx, or 429. */
class Retry extends Error {}

/** Runs `fn` until it answers with something other than Retry, for at most `forMs`. */
async function retrying<T>(forMs: number, stats: { retries: number }, fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + forMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      stats.retries++;
      await sleep(500);
    }
  }
}

function retriable(status: number): boolean {
  return status >= 500 || status === 429;
}

export async function run(): Promise<Figures> {
  const rate = Number(process.env.FAULTS_RATE ?? 10);
  const sec = Number(process.env.FAULTS_SEC ?? 60);
  const scarceUnits = Number(process.env.FAULTS_SCARCE ?? 40);
  const waitSec = Number(process.env.FAULTS_WAIT_SEC ?? 180);
  await reopenDatabases(log);
  const sys = await ensureSystem(log);
  const names = sys.services.map((s) => s.name);
  const faults = parseFaults(process.env.FAULTS ?? DEFAULT_FAULTS, names);
  if (!sys.startedHere && process.env.FAULTS_ON_RUNNING !== '1') {
    throw new Error('Flowline is already running: the faults workload kills services and cuts databases, so it only works on a system the bench starts itself (stop it first), or set FAULTS_ON_RUNNING=1 for one under npm start');
  }
  const urlOf = (name: string) => `http://127.0.0.1:${sys.services.find((s) => s.name === name)?.httpPort}`;
  const runId = newRunId();
  const plenty = Array.from({ length: 4 }, (_, i) => `${runId}-F${i}`);
  const scarce = `${runId}-SCARCE`;
  await ensureFlowlineStock(sys.urls.inventory, plenty, 100_000);
  const inv = new HttpClient(sys.urls.inventory, 16);
  const opening = new Map<string, StockLevel>();
  try {
    if ((await inv.put(`/api/stock/skus/${scarce}`, { name: 'faults scarce' })).status >= 300) throw new Error(`cannot register ${scarce}`);
    const r = await inv.post('/api/stock/receipts', { sku: scarce, warehouseId: WAREHOUSE, quantity: scarceUnits, reference: 'faults' }, { 'idempotency-key': `faults-${scarce}` });
    if (r.status >= 300) throw new Error(`receipt of ${scarce}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    for (const sku of [...plenty, scarce]) opening.set(sku, await stockOf(inv, sku));
  } finally {
    inv.close();
  }

  const http = new HttpClient(sys.urls.orderIntake, 256);
  const intake = orderIntakeClient(sys.urls.orderIntake, { fetch: http.fetch });
  const stats = { retries: 0, refused: 0, refusals: {} as Record<string, number>, gaveUp: 0 };
  const orders: FaultOrder[] = [];
  const times = faultTimes(faults, sec);
  const started = Date.now();
  let lastFaultEnd = started;
  const injected: string[] = [];
  const injecting = (async () => {
    for (const [i, fault] of faults.entries()) {
      await sleep(started + times[i] * 1000 - Date.now());
      const what = describe(fault);
      log(`fault ${i + 1}/${faults.length}: ${what}`);
      try {
        // The pid listening now: a service killed before runs under a new one.
        const pidOf = (name: string) => pidListeningOn(sys.services.find((s) => s.name === name)?.httpPort ?? 0);
        await inject(fault, pidOf, sys.services.map((s) => s.database));
        injected.push(what);
      } catch (e) {
        log(`  could not inject ${what}: ${e instanceof Error ? e.message : String(e)}`);
        injected.push(`${what} (not injected)`);
      }
      lastFaultEnd = Date.now();
    }
  })();

  const loop = await openLoop({
    ratePerSec: rate,
    durationSec: sec,
    maxInFlight: 5_000,
    fire: async (i) => {
      const onScarce = i % 3 === 0;
      const sku = onScarce ? scarce : plenty[i % plenty.length];
      const order = benchOrder(i, { runId, skus: [sku], lines: 1 });
      const rec: FaultOrder = { sku, paid: false };
      orders.push(rec);
      const refuse = (why: string) => {
        stats.refused++;
        stats.refusals[why] = (stats.refusals[why] ?? 0) + 1;
      };
      try {
        const placed = await retrying(120_000, stats, async () => {
          const r = await intake.POST('/api/orders', { body: order.body, params: { header: { 'Idempotency-Key': order.idempotencyKey } } });
          if (retriable(r.response.status)) throw new Retry(`place HTTP ${r.response.status}`);
          return r;
        });
        if (placed.response.status !== 201 || !placed.data?.orderId) return refuse(`place HTTP ${placed.response.status}`);
        rec.orderId = placed.data.orderId;
        const orderId = rec.orderId;
        const paid = await retrying(120_000, stats, async () => {
          const r = await intake.POST('/api/orders/{orderId}/payments', {
            params: { path: { orderId }, header: { 'Idempotency-Key': `${order.idempotencyKey}-pay` } },
            body: { amount: order.grandTotal, currency: 'CNY' },
          });
          if (retriable(r.response.status)) throw new Retry(`pay HTTP ${r.response.status}`);
          return r;
        });
        if (paid.response.status !== 200) return refuse(`pay HTTP ${paid.response.status}`);
        rec.paid = true;
      } catch {
        // No answer for 120 s: whether the last request took effect, only the system knows.
        rec.unknown = true;
        stats.gaveUp++;
      }
    },
  });
  await injecting;
  http.close();
  log(`load done: ${loop.sent} orders sent, ${stats.retries} retries, ${stats.refused} refused, ${stats.gaveUp} given up; settling`);

  const deadline = Date.now() + waitSec * 1000;
  let verdict = await look(orders, urlOf, [...plenty, scarce], opening, sys.urls.inventory);
  while (!held(verdict) && Date.now() < deadline) {
    log(`not settled yet: ${JSON.stringify(verdict)}`);
    await sleep(5_000);
    verdict = await look(orders, urlOf, [...plenty, scarce], opening, sys.urls.inventory);
  }
  const settledAfter = held(verdict) ? round((Date.now() - lastFaultEnd) / 1000, 0) : 'not settled';
  log(`verdict: ${JSON.stringify(verdict)}; guarantees ${held(verdict) ? 'held' : 'NOT held'}`);
  return {
    'load (s, FAULTS_SEC) and rate (orders/s, FAULTS_RATE)': `${sec} s at ${rate}/s`,
    'orders sent': loop.sent,
    'orders accepted': verdict.accepted,
    'orders refused (4xx)': stats.refused,
    'orders given up by the client (no answer in 120 s)': stats.gaveUp,
    'client retries (5xx, 429, no answer)': stats.retries,
    'faults injected': injected.join('; '),
    'orders lost': verdict.lost,
    'orders not where the stock puts them': verdict.unsettled,
    'tracking rows disagreeing with order-intake': verdict.trackingMismatches,
    'units oversold': verdict.oversoldUnits,
    'reservation drift (units lost or doubled)': verdict.reservationDrift,
    'ready orders without exactly one parcel': verdict.shipmentAnomalies,
    'settled after the last fault (s)': settledAfter,
    'guarantees held': held(verdict) ? 'yes' : 'no',
    ...(Object.keys(stats.refusals).length ? { 'detail.refusals': JSON.stringify(stats.refusals) } : {}),
  };
}

function describe(f: Fault): string {
  return f.kind === 'kill' ? `SIGKILL ${f.service}` : f.kind === 'db' ? `every Flowline database away for ${f.seconds} s` : `Kafka broker stopped for ${f.seconds} s`;
}

async function inject(f: Fault, pidOf: (service: string) => number | undefined, databases: string[]): Promise<void> {
  if (f.kind === 'kill') {
    const pid = pidOf(f.service);
    if (!pid) throw new Error(`no pid for ${f.service}`);
    process.kill(pid, 'SIGKILL');
    return;
  }
  if (f.kind === 'kafka') {
    // Only the broker scripts/kafka.sh runs from this checkout: `stop` quietly does nothing to another.
    const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
    if (!/^(127\.0\.0\.1|localhost):9092$/.test(brokers) || !existsSync(resolve(ROOT, process.env.KAFKA_DATA_DIR ?? '.data/kafka', 'kafka.pid'))) {
      throw new Error(`the broker (${brokers}) is not the one scripts/kafka.sh runs from this checkout`);
    }
    let started = false;
    const restart = async () => {
      if (started) return;
      await exec('bash', ['scripts/kafka.sh', 'start'], { cwd: ROOT });
      started = true;
    };
    atBenchEnd(restart);
    await exec('bash', ['scripts/kafka.sh', 'stop'], { cwd: ROOT });
    await sleep(f.seconds * 1000);
    await restart();
    return;
  }
  // A database outage: new connections refused, open ones cut, for `seconds`; databases on this machine only.
  const host = new URL(serverUrl()).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(host)) throw new Error(`the databases are on ${host}, not on this machine`);
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  const allow = async (on: boolean) => {
    for (const db of databases) await admin.query(`ALTER DATABASE ${escapeIdentifier(db)} WITH ALLOW_CONNECTIONS ${on}`);
  };
  // Whatever happens next (an error, Ctrl-C), the databases take connections again.
  let restored = false;
  const restore = async () => {
    if (restored) return;
    await allow(true);
    restored = true;
    await admin.end().catch(() => undefined);
  };
  atBenchEnd(restore);
  try {
    await allow(false);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()', [databases]);
    await sleep(f.seconds * 1000);
  } finally {
    await restore();
  }
}

/** Opens again any Flowline database a killed run of this workload left refusing connections. */
async function reopenDatabases(say: (m: string) => void): Promise<void> {
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    const shut = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE NOT datallowconn AND datname LIKE '%flowline\\_%' AND NOT datistemplate`);
    for (const { datname } of shut.rows) {
      say(`database ${datname} was left refusing connections (an interrupted faults run): opening it again`);
      await admin.query(`ALTER DATABASE ${escapeIdentifier(datname)} WITH ALLOW_CONNECTIONS true`);
    }
  } finally {
    await admin.end();
  }
}

async function stockOf(http: HttpClient, sku: string): Promise<StockLevel> {
  const r = await http.get<{ total?: { onHand?: number; reserved?: number } }>(`/api/stock/skus/${encodeURIComponent(sku)}`);
  if (r.status !== 200) throw new Error(`stock of ${sku}: HTTP ${r.status}`);
  return { onHand: r.body.total?.onHand ?? 0, reserved: r.body.total?.reserved ?? 0 };
}

/** Reads every accepted order's stage in order-intake and tracking, its parcels, and the stock. */
async function look(orders: FaultOrder[], urlOf: (name: string) => string, skus: string[], opening: Map<string, StockLevel>, inventoryUrl: string) {
  const intake = new HttpClient(urlOf('order-intake'), 16);
  const tracking = new HttpClient(urlOf('tracking'), 16);
  const fulfillment = new HttpClient(urlOf('fulfillment'), 16);
  const inv = new HttpClient(inventoryUrl, 4);
  try {
    const accepted = orders.filter((o) => o.orderId);
    for (let i = 0; i < accepted.length; i += 16) {
      await Promise.all(
        accepted.slice(i, i + 16).map(async (o) => {
          const id = encodeURIComponent(o.orderId as string);
          const [a, t] = await Promise.all([intake.get<{ stage?: string }>(`/api/orders/${id}`), tracking.get<{ order?: { stage?: string } }>(`/api/tracking/orders/${id}`)]);
          o.stage = a.status === 200 ? a.body.stage : undefined;
          o.trackedStage = t.status === 200 ? t.body.order?.stage : undefined;
          if (o.stage === 'ready_to_ship') {
            const f = await fulfillment.get<{ shipments?: unknown[] }>(`/api/fulfillment/orders/${id}`);
            o.shipments = f.status === 200 ? (f.body.shipments?.length ?? 0) : undefined;
          }
        }),
      );
    }
    const stock = new Map<string, StockLevel>();
    for (const sku of skus) stock.set(sku, await stockOf(inv, sku));
    return judge(orders, stock, opening);
  } finally {
    for (const c of [intake, tracking, fulfillment, inv]) c.close();
  }
}
