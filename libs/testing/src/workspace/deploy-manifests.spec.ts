import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_TOPICS, Topics } from '@flowline/contracts';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Docker and Kubernetes can't run here, so these checks keep deploy/ and k8s/ honest: every file
 * parses, and the manifests agree with scripts/services.ts (names, ports, databases), the topic
 * list in libs/contracts and the pinned Node version.
 */
const root = resolve(__dirname, '../../../..');
const read = (p: string) => readFileSync(resolve(root, p), 'utf8');

interface ServiceSpec {
  name: string;
  httpPort: number;
  grpcPort: number;
  database: string;
}
let SERVICES: readonly ServiceSpec[];

beforeAll(async () => {
  // scripts/ is not an Nx project, so it is loaded by path rather than imported.
  ({ SERVICES } = (await import(resolve(root, 'scripts/services.ts'))) as { SERVICES: readonly ServiceSpec[] });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field below
type Doc = Record<string, any>;

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(resolve(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

function k8sDocs(): Doc[] {
  return yamlFiles('k8s').flatMap((f) =>
    parseAllDocuments(read(f))
      .map((d) => d.toJS() as Doc)
      .filter(Boolean),
  );
}

describe('deploy/docker-compose.yml', () => {
  const compose = () => parse(read('deploy/docker-compose.yml'), { merge: true }) as Doc;

  it('parses, with Kafka 3.9.2 (KRaft), PostgreSQL 15 and EventStoreDB', () => {
    const c = compose();
    expect(c.services.kafka.image).toBe('apache/kafka:3.9.2');
    expect(c.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(c.services.kafka.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(c.services.postgres.image).toMatch(/^postgres:15/);
    expect(c.services.eventstoredb.image).toMatch(/^eventstore\//);
  });

  it('runs every service from the one image with the ports and env names of scripts/start.ts', () => {
    const c = compose();
    for (const s of SERVICES) {
      const svc = c.services[s.name];
      expect(svc, s.name).toBeDefined();
      expect(svc.build.dockerfile).toBe('deploy/Dockerfile');
      expect(svc.environment).toMatchObject({
        SERVICE: s.name,
        HTTP_PORT: String(s.httpPort),
        GRPC_PORT: String(s.grpcPort),
        KAFKA_BROKERS: 'kafka:9092',
      });
      // Events live in PostgreSQL (ADR 0003): no service reads EVENTSTORE_URL, so none is promised one.
      expect(svc.environment.EVENTSTORE_URL).toBeUndefined();
      expect(new URL(svc.environment.DATABASE_URL).pathname).toBe(`/${s.database}`);
      // Published on the host's loopback only (#16); the password comes from the environment.
      expect(svc.ports).toEqual([`127.0.0.1:${s.httpPort}:${s.httpPort}`, `127.0.0.1:${s.grpcPort}:${s.grpcPort}`]);
      expect(svc.environment.DATABASE_URL).toBe(`postgres://postgres:\${POSTGRES_PASSWORD}@postgres:5432/${s.database}`);
    }
  });

  it('runs PostgreSQL with a password from the environment, never trust auth (#16)', () => {
    const pg = compose().services.postgres;
    expect(pg.environment.POSTGRES_HOST_AUTH_METHOD).toBeUndefined();
    expect(pg.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(pg.environment.POSTGRES_INITDB_ARGS).toContain('scram-sha-256');
    expect(read('deploy/docker-compose.yml')).not.toMatch(/AUTH_METHOD:\s*trust/);
  });

  it('creates every contract topic and its dead-letter topic, and every service database', () => {
    const init = compose().services['kafka-init'].command.join('\n') as string;
    for (const t of Object.values(Topics)) expect(init).toContain(` ${t}`);
    expectRetentionKeptForEventTopics(init);
    expect(init).toContain('"$$t.dlq"');
    expect(init).toContain('--partitions 12');
    const sql = read('deploy/postgres-init.sql');
    for (const s of SERVICES) expect(sql).toContain(`CREATE DATABASE ${s.database};`);
  });

  it('builds on the Node version pinned in .nvmrc', () => {
    const node = read('.nvmrc').trim();
    expect(read('deploy/Dockerfile')).toContain(`ARG NODE_IMAGE=node:${node}-slim`);
  });
});

/**
 * The topic script keeps everything on exactly the event topics (libs/contracts EVENT_TOPICS, the
 * stock facts of ADR 0023 included): its `case "$t" in <globs>) keep=...` matches them and no other.
 */
function expectRetentionKeptForEventTopics(script: string): void {
  const globs = /case "\$\$?t" in ([^)]+)\) keep="--config retention\.ms=-1/.exec(script)?.[1];
  expect(globs, 'the retention case of the topic script').toBeDefined();
  const kept = (t: string) => globs!.split('|').some((g) => new RegExp(`^${g.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(t));
  for (const t of Object.values(Topics)) expect(kept(t), t).toBe(EVENT_TOPICS.includes(t));
}

describe('k8s/', () => {
  it('every manifest parses without errors', () => {
    for (const f of yamlFiles('k8s')) {
      for (const d of parseAllDocuments(read(f))) expect(d.errors.map((e) => `${f}: ${e.message}`)).toEqual([]);
    }
  });

  it('kustomization lists files that exist', () => {
    // k8s/services/kustomization.yaml lists one file per service; k8s/base builds on it (k8s-manifests.spec.ts renders it).
    const k = parse(read('k8s/services/kustomization.yaml')) as Doc;
    for (const r of k.resources as string[]) expect(existsSync(resolve(root, 'k8s/services', r)), r).toBe(true);
    for (const s of SERVICES) expect(k.resources).toContain(`${s.name}.yaml`);
  });

  it('has a Deployment and a Service per service with probes, memory request and limit, and scrape annotations', () => {
    const docs = k8sDocs();
    for (const s of SERVICES) {
      const dep = must(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === s.name), `Deployment ${s.name}`);
      const svc = must(docs.find((d) => d.kind === 'Service' && d.metadata.name === s.name), `Service ${s.name}`);
      const pod = dep.spec.template;
      const c = pod.spec.containers[0];
      expect(pod.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(s.httpPort),
        'prometheus.io/path': '/metrics',
      });
      expect(c.ports).toEqual([
        { name: 'http', containerPort: s.httpPort },
        { name: 'grpc', containerPort: s.grpcPort },
      ]);
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      // Sized from the bench (k8s/README.md Sizing; k8s-manifests.spec.ts checks limit >= 1.3 x measured RSS).
      expect(c.resources.requests.memory).toMatch(/^\d+Mi$/);
      expect(c.resources.limits.memory).toMatch(/^\d+Mi$/);
      expect(c.envFrom).toContainEqual({ configMapRef: { name: 'flowline-config' } });
      const env = Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.value ?? e.valueFrom]));
      expect(env).toMatchObject({ SERVICE: s.name, HTTP_PORT: String(s.httpPort), GRPC_PORT: String(s.grpcPort) });
      expect(env.DATABASE_URL).toEqual({ secretKeyRef: { name: 'flowline-database', key: s.name } });
      expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    }
  });

  it("tells every service where the peers whose APIs it calls listen (the code's 127.0.0.1 defaults only fit npm start)", () => {
    const docs = k8sDocs();
    const compose = parse(read('deploy/docker-compose.yml')) as Doc;
    const envName = (peer: string) => `${peer.replace(/-/g, '_').toUpperCase()}_URL`;
    const sources = (dir: string): string[] =>
      readdirSync(resolve(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : /\.ts$/.test(e.name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    let checked = 0;
    for (const s of SERVICES) {
      const code = sources(`services/${s.name}/src`).map(read).join('\n');
      const dep = must(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === s.name), `Deployment ${s.name}`);
      const env = Object.fromEntries((dep.spec.template.spec.containers[0].env as Doc[]).map((e) => [e.name, e.value]));
      const composeEnv = (compose.services[s.name]?.environment ?? {}) as Record<string, unknown>;
      // The console is called by browsers only (order-intake's CONSOLE_URL is the portal link's public base: PORTAL_LINK_BASE_URL).
      for (const peer of SERVICES.filter((p) => p.name !== s.name && p.name !== 'console')) {
        if (!new RegExp(`env\\.${envName(peer.name)}\\b`).test(code)) continue;
        checked++;
        expect(env[envName(peer.name)], `${s.name}: k8s ${envName(peer.name)}`).toBe(`http://${peer.name}:${peer.httpPort}`);
        expect(composeEnv[envName(peer.name)], `${s.name}: compose ${envName(peer.name)}`).toBe(`http://${peer.name}:${peer.httpPort}`);
      }
    }
    // order-intake -> notification (portal codes) and inventory (shortage retry), fulfillment -> inventory (restocks), channel-gateway -> order-intake.
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('keeps order-intake and inventory available through disruptions', () => {
    const docs = k8sDocs();
    for (const name of ['order-intake', 'inventory']) {
      const pdb = must(docs.find((d) => d.kind === 'PodDisruptionBudget' && d.metadata.name === name), `PDB ${name}`);
      const dep = must(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name), `Deployment ${name}`);
      expect(pdb.spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
      expect(dep.spec.replicas).toBeGreaterThan(pdb.spec.minAvailable);
    }
  });

  it('the ConfigMap carries the shared env names and the topic Job every contract topic', () => {
    const docs = k8sDocs();
    const cm = must(docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'flowline-config'), 'ConfigMap');
    expect(Object.keys(cm.data)).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'NODE_ENV']));
    expect(cm.data.EVENTSTORE_URL).toBeUndefined();
    const job = must(docs.find((d) => d.kind === 'Job' && d.metadata.name === 'flowline-kafka-topics'), 'topic Job');
    const script = job.spec.template.spec.containers[0].args.join('\n') as string;
    for (const t of Object.values(Topics)) expect(script).toContain(` ${t}`);
    expectRetentionKeptForEventTopics(script);
    expect(script).toContain('"$t.dlq"');
  });
});
