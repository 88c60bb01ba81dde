import { startServiceProcess, type ServiceProcess } from '@flowline/platform';
import { createTestDatabase, kafkaBrokers, uniqueSuffix } from '@flowline/testing';
import { createKafka } from '@flowline/messaging';

/** A JSON reply of a service under test, read loosely (the tests assert its shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are checked by the assertions, not by the type
export type Body = Record<string, any>;

export interface CallResult {
  status: number;
  /** The parsed reply ({} when the body was empty). */
  json: Body;
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Body) : {} };
}

/** Polls `probe` until it returns a value (not undefined), or fails naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Services as separate processes, each on its own database, sharing one topic prefix. */
export class Cluster {
  readonly procs: Record<string, ServiceProcess> = {};
  private readonly dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];

  constructor(readonly prefix: string) {}

  async start(name: string, service: string, env: Record<string, string> = {}, database?: { url: string }): Promise<ServiceProcess> {
    let url = database?.url;
    if (!url) {
      const db = await createTestDatabase(`e2e_${name.replace(/-/g, '_')}`);
      this.dbs.push(db);
      url = db.url;
    }
    const common = { KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_TOPIC_PREFIX: this.prefix, KAFKA_TOPIC_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    this.procs[name] = await startServiceProcess({ service, env: { ...common, ...env, DATABASE_URL: url }, readyTimeoutMs: 300_000 });
    return this.procs[name];
  }

  async database(label: string) {
    const db = await createTestDatabase(label);
    this.dbs.push(db);
    return db;
  }

  async stop(): Promise<void> {
    if (process.env.E2E_DEBUG) for (const [name, p] of Object.entries(this.procs)) console.log(`---- ${name}\n${p.output().slice(-6000)}`);
    await Promise.all(Object.values(this.procs).map((p) => p.stop('SIGTERM').catch(() => undefined)));
    const admin = createKafka({ brokers: kafkaBrokers(), clientId: `approval-e2e-cleanup-${uniqueSuffix()}` }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(this.prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    for (const db of this.dbs) await db.drop().catch(() => undefined);
  }
}
