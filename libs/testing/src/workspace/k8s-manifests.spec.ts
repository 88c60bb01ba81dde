import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Topics, deadLetterTopic, topicConfig } from '@flowline/contracts';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Namespace, ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { kustomizeBuild } from './kustomize-lite';

/**
 * Offline validation of what `kubectl apply -k` would send: each overlay is rendered with kustomize
 * (`kubectl kustomize`, kustomize v5) or, where kubectl is missing (a fresh CI machine), with
 * ./kustomize-lite.ts, which is checked to render the same wherever both run; every object is validated against the
 * Kubernetes OpenAPI schemas (kubernetes-models), KEDA and Prometheus Operator (@kubernetes-models/*),
 * Strimzi and CloudNativePG (their CRDs' openAPIV3Schema, vendored in k8s/schemas with the source
 * version), then against Flowline's rules: limits, probes, non-root, read-only root filesystem, no
 * inline secrets, limits >= 1.3 x the RSS the bench measured, KEDA per consumer group up to 12.
 */
const root = resolve(__dirname, '../../../..');

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
// FLOWLINE_NO_KUBECTL=1 renders with kustomize-lite even where kubectl exists (what a fresh CI machine does).
const KUBECTL = process.env.FLOWLINE_NO_KUBECTL !== '1' && hasKubectl();

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked by schemas and field by field
type Doc = Record<string, any>;

function kubectlKustomize(dir: string): Doc[] {
  const out = execFileSync('kubectl', ['kustomize', resolve(root, dir)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
}

/** kubectl kustomize where installed; else kustomize-lite (checked equal to kubectl where both run). */
const render = (dir: string): Doc[] => (KUBECTL ? kubectlKustomize(dir) : kustomizeBuild(resolve(root, dir)));

const byKey = (docs: Doc[]) =>
  Object.fromEntries(docs.map((d) => [`${d.apiVersion}/${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`, d]));

type Model = new (data: Doc) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace as unknown as Model,
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'batch/v1/Job': Job as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as Model,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as Model,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Model,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor as unknown as Model,
};

// CRD schemas use x-kubernetes-* keywords and int32/int64 formats: not strict, formats not checked.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const CRD_SCHEMAS = new Map<string, ValidateFunction>(
  readdirSync(resolve(root, 'k8s/schemas'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const s = JSON.parse(readFileSync(resolve(root, 'k8s/schemas', f), 'utf8')) as { group: string; version: string; kind: string; schema: object };
      return [`${s.group}/${s.version}/${s.kind}`, ajv.compile(s.schema)];
    }),
);

/** Schema errors of one object, [] when valid; throws for a kind nothing can validate. */
function schemaErrors(d: Doc): string[] {
  const key = `${d.apiVersion}/${d.kind}`;
  const model = MODELS[key];
  if (model) {
    try {
      new model(d).validate();
      return [];
    } catch (e) {
      return [`${key} ${d.metadata?.name}: ${(e as Error).message}`];
    }
  }
  const crd = CRD_SCHEMAS.get(key);
  if (!crd) throw new Error(`no schema for ${key} (${d.metadata?.name})`);
  const valid = crd(d as object); // (not `crd(d)`: the type guard would narrow d to never below)
  return valid ? [] : (crd.errors ?? []).map((e) => `${key} ${d.metadata?.name}: ${e.instancePath} ${e.message}`);
}

/**
 * Max RSS (MiB) per service in the newest bench result that measured memory, over every workload
 * that recorded one: a one-workload run (`npm run bench -- e2e`) records "idle / max" pairs, a full
 * run the memory workload's maxima too; a result without any (an intake-only run) is passed over.
 */
function measuredRss(): Record<string, number> {
  const dir = resolve(root, 'bench/results');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse();
  if (files.length === 0) throw new Error('no bench result');
  for (const file of files) {
    const max: Record<string, number> = {};
    const note = (name: string, mib: number) => {
      if (Number.isFinite(mib)) max[name] = Math.max(max[name] ?? 0, mib);
    };
    const walk = (o: unknown): void => {
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        const m = /^(?:rss max MiB|RSS MiB max under load) (.+)$/i.exec(k);
        const pair = /^RSS MiB idle \/ max under load (.+)$/i.exec(k);
        if (m && typeof v === 'number') note(m[1], v);
        else if (pair && typeof v === 'string') note(pair[1], Number(v.split('/')[1]));
        else walk(v);
      }
    };
    walk(JSON.parse(readFileSync(resolve(dir, file), 'utf8')));
    if (Object.keys(max).length > 0) return max;
  }
  throw new Error('no bench result measured memory');
}

const mebibytes = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

/** Services whose main.js has the migrate-only entry (issue #18): each gets a k8s/base/migrate-jobs.yaml Job. */
const MIGRATE_JOB_SERVICES = ['order-intake', 'inventory', 'approval', 'fulfillment', 'tracking', 'channel-gateway', 'analytics', 'notification', 'console'];
const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/prod', 'k8s'];

describe(`k8s/ rendered with ${KUBECTL ? 'kubectl kustomize' : 'kustomize-lite (kubectl not installed)'}`, () => {
  // Rendered once, in a hook: a skipped suite's body still runs to collect its tests.
  const rendered: Record<string, Doc[]> = {};
  beforeAll(() => {
    for (const o of OVERLAYS) rendered[o] = render(o);
  });
  const pods = (docs: Doc[]) =>
    docs.filter((d) => d.kind === 'Deployment' || d.kind === 'Job').map((d) => ({ name: `${d.kind}/${d.metadata.name}`, kind: d.kind as string, spec: d.spec.template.spec as Doc }));

  it.skipIf(!KUBECTL).each(OVERLAYS)('%s: kustomize-lite renders exactly what kubectl kustomize renders (skipped without kubectl)', (o) => {
    const lite = byKey(kustomizeBuild(resolve(root, o)));
    const real = byKey(rendered[o]);
    expect(Object.keys(lite).sort()).toEqual(Object.keys(real).sort());
    expect(lite).toEqual(real);
  });

  it.each(OVERLAYS)('%s: every object is valid against the Kubernetes / CRD schemas', (o) => {
    const docs = rendered[o];
    expect(docs.length).toBeGreaterThan(40);
    expect(docs.flatMap(schemaErrors)).toEqual([]);
  });

  it('the schemas do refuse a wrong object (a Deployment without selector, a KafkaTopic with 0 partitions)', () => {
    const dep = structuredClone(rendered['k8s/overlays/prod'].find((d) => d.kind === 'Deployment')) as Doc;
    delete dep.spec.selector;
    expect(schemaErrors(dep)).not.toEqual([]);
    const topic = structuredClone(rendered['k8s/overlays/dev'].find((d) => d.kind === 'KafkaTopic')) as Doc;
    topic.spec.partitions = 0;
    expect(schemaErrors(topic)).not.toEqual([]);
  });

  it.each(OVERLAYS)('%s: every container has a memory limit, non-root, read-only root fs; services have probes', (o) => {
    for (const p of pods(rendered[o])) {
      expect(p.spec.securityContext?.runAsNonRoot, p.name).toBe(true);
      for (const c of p.spec.containers as Doc[]) {
        const at = `${p.name}/${c.name}`;
        expect(c.resources?.limits?.memory, at).toMatch(/^\d+(Mi|Gi)$/);
        expect(c.resources?.requests?.cpu, at).toBeTruthy();
        expect(c.securityContext?.readOnlyRootFilesystem, at).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation, at).toBe(false);
        if (p.kind === 'Deployment') {
          expect(c.startupProbe?.httpGet?.path, at).toBe('/health/live');
          expect(c.livenessProbe?.httpGet?.path, at).toBe('/health/live');
          expect(c.readinessProbe?.httpGet?.path, at).toBe('/health/ready');
        }
      }
    }
  });

  it.each(OVERLAYS)('%s: no Secret is rendered and secret values only come through secretKeyRef', (o) => {
    const docs = rendered[o];
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    for (const p of pods(docs))
      for (const c of p.spec.containers as Doc[])
        for (const e of (c.env ?? []) as Doc[])
          if (/PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL/.test(e.name))
            expect(e.valueFrom?.secretKeyRef, `${p.name} ${e.name}`).toBeDefined();
    for (const cm of docs.filter((d) => d.kind === 'ConfigMap'))
      for (const [k, v] of Object.entries(cm.data ?? {})) {
        expect(k).not.toMatch(/PASSWORD|SECRET|TOKEN|DATABASE_URL/);
        expect(String(v)).not.toMatch(/:\/\/[^/\s]*:[^@/\s]+@/); // no user:password@ in a URL
      }
  });

  it('memory limits are >= 1.3 x the max RSS the bench measured, V8 heap below the limit', () => {
    const rss = measuredRss();
    expect(Object.keys(rss)).toEqual(expect.arrayContaining(['order-intake', 'tracking']));
    // The newest run's figures are read (2026-12-05: order-intake 217 MiB; the 2025-11-25 run measured 445).
    expect(rss['order-intake']).toBeGreaterThan(0);
    for (const d of rendered['k8s/overlays/prod'].filter((x) => x.kind === 'Deployment')) {
      const c = d.spec.template.spec.containers[0] as Doc;
      const limit = mebibytes(c.resources.limits.memory);
      if (rss[d.metadata.name] !== undefined) expect(limit, d.metadata.name).toBeGreaterThanOrEqual(1.3 * rss[d.metadata.name]);
      const opts = (c.env as Doc[]).find((e) => e.name === 'NODE_OPTIONS')?.value as string;
      const heap = Number(/--max-old-space-size=(\d+)/.exec(opts)?.[1]);
      expect(heap, d.metadata.name).toBeGreaterThan(0);
      expect(heap, d.metadata.name).toBeLessThanOrEqual(0.65 * limit);
    }
  });

  it('every consumer service scales on lag of its consumer groups, at most 12 replicas (= partitions); the console on CPU', () => {
    const docs = rendered['k8s/overlays/prod'];
    const groups = Object.fromEntries(
      docs
        .filter((d) => d.kind === 'ScaledObject')
        .map((d) => {
          expect(d.spec.maxReplicaCount, d.metadata.name).toBe(12);
          expect(docs.some((x) => x.kind === 'Deployment' && x.metadata.name === d.spec.scaleTargetRef.name)).toBe(true);
          for (const t of d.spec.triggers.filter((x: Doc) => x.type === 'kafka')) expect(t.metadata.bootstrapServersFromEnv).toBe('KAFKA_BROKERS');
          return [d.metadata.name, d.spec.triggers.filter((t: Doc) => t.type === 'kafka').map((t: Doc) => t.metadata.consumerGroup)];
        }),
    );
    expect(groups).toEqual({
      'order-intake': ['order-intake.process-manager'],
      inventory: ['inventory'],
      approval: ['approval.commands', 'approval.commands.watch'],
      fulfillment: ['fulfillment.commands'],
      notification: ['notification'],
      tracking: ['tracking-projector'],
      'channel-gateway': ['channel-gateway.atp'],
      analytics: ['analytics-projector'],
    });
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
    expect(hpa?.spec.scaleTargetRef.name).toBe('console');
    // No Deployment is the target of both a plain HPA and a ScaledObject (they would fight).
    expect(groups[hpa?.spec.scaleTargetRef.name]).toBeUndefined();
  });

  it('every Deployment has a PodDisruptionBudget, topology spread and a NetworkPolicy default deny', () => {
    const docs = rendered['k8s/overlays/prod'];
    for (const d of docs.filter((x) => x.kind === 'Deployment')) {
      const labels = d.spec.selector.matchLabels;
      expect(docs.some((x) => x.kind === 'PodDisruptionBudget' && JSON.stringify(x.spec.selector.matchLabels) === JSON.stringify(labels)), d.metadata.name).toBe(true);
      expect(d.spec.template.spec.topologySpreadConstraints?.length, d.metadata.name).toBeGreaterThan(0);
    }
    const deny = docs.find((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'default-deny');
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(docs.some((x) => x.kind === 'PodMonitor')).toBe(true);
  });

  it.each(OVERLAYS)('%s: identity (#16): OIDC issuer and audience configured, callers get their client secret by reference, every pod may reach the issuer and the portal JWKS', (o) => {
    const docs = rendered[o];
    const config = docs.find((d) => d.kind === 'ConfigMap' && String(d.metadata.name).startsWith('flowline-config')) as Doc;
    expect(config.data.OIDC_ISSUER).toMatch(/^https:\/\//);
    expect(config.data.OIDC_AUDIENCE).toBe('flowline');
    expect(config.data.PORTAL_ISSUER).toMatch(/order-intake:3001\/portal$/);
    for (const svc of ['channel-gateway', 'fulfillment', 'order-intake', 'console']) {
      const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === svc) as Doc;
      const refs = (dep.spec.template.spec.containers[0].envFrom as Doc[]).map((e) => e.secretRef?.name).filter(Boolean);
      expect(refs, svc).toContain('flowline-oidc');
    }
    const identity = docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'flowline-egress-identity') as Doc;
    expect(identity.spec.podSelector.matchLabels['app.kubernetes.io/part-of']).toBe('flowline');
    expect(JSON.stringify(identity.spec.egress)).toContain('"port":443');
    expect(docs.some((d) => d.kind === 'Secret' && d.metadata.name === 'flowline-oidc')).toBe(false);
  });

  it.each(OVERLAYS)('%s: a migrate Job per service with versioned migrations: the image, `main.js migrate`, its DATABASE_URL Secret, no hook', (o) => {
    const docs = rendered[o];
    const jobs = docs.filter((d) => d.kind === 'Job' && d.metadata.labels?.['app.kubernetes.io/component'] === 'migrate');
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(MIGRATE_JOB_SERVICES.map((s) => `flowline-migrate-${s}`).sort());
    for (const svc of MIGRATE_JOB_SERVICES) {
      const job = jobs.find((j) => j.metadata.name === `flowline-migrate-${svc}`) as Doc;
      const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === svc) as Doc;
      const c = job.spec.template.spec.containers[0] as Doc;
      expect(c.image, svc).toBe(deployment.spec.template.spec.containers[0].image);
      expect(c.command.slice(-2), svc).toEqual([`dist/services/${svc}/src/main.js`, 'migrate']);
      const db = (c.env as Doc[]).find((e) => e.name === 'DATABASE_URL');
      expect(db?.valueFrom?.secretKeyRef, svc).toEqual({ name: 'flowline-database', key: svc });
      expect(JSON.stringify(job.metadata.annotations ?? {}), svc).not.toMatch(/helm|argocd|fluxcd/);
      expect(job.spec.template.spec.restartPolicy, svc).toBe('OnFailure');
    }
  });

  it('Strimzi component: a KafkaTopic per contract topic and DLQ with 12 partitions and topicConfig; the Job gone', () => {
    const docs = rendered['k8s/overlays/dev'];
    const topics = new Map(docs.filter((d) => d.kind === 'KafkaTopic').map((d) => [d.spec.topicName as string, d.spec as Doc]));
    const expected = Object.values(Topics).flatMap((t) => [t, deadLetterTopic(t)]);
    expect([...topics.keys()].sort()).toEqual(expected.sort());
    for (const t of expected) {
      expect(topics.get(t)?.partitions, t).toBe(12);
      expect(topics.get(t)?.config, t).toMatchObject(topicConfig(t));
    }
    expect(docs.filter((d) => d.kind === 'Job' && d.metadata.name === 'flowline-kafka-topics')).toEqual([]);
    expect(docs.find((d) => d.kind === 'ConfigMap')?.data.KAFKA_BROKERS).toBe('flowline-kafka-kafka-bootstrap:9092');
  });

  it('CloudNativePG component: a database per service with a scheduled backup; prod reaches external Kafka by config alone', () => {
    const dev = rendered['k8s/overlays/dev'];
    const dbs = dev.filter((d) => d.kind === 'Database').map((d) => d.spec.name);
    const bootstrap = dev.find((d) => d.kind === 'Cluster')?.spec.bootstrap.initdb.database;
    for (const s of ['order_intake', 'inventory', 'approval', 'fulfillment', 'notification', 'tracking']) expect(dbs).toContain(`flowline_${s}`);
    expect(bootstrap).toBe('flowline_order_intake');
    expect(dev.find((d) => d.kind === 'ScheduledBackup')?.spec.cluster.name).toBe('flowline-pg');
    const prod = rendered['k8s/overlays/prod'];
    expect(prod.some((d) => ['Kafka', 'Cluster'].includes(d.kind))).toBe(false);
    expect(prod.find((d) => d.kind === 'ConfigMap')?.data.KAFKA_BROKERS).toMatch(/example\.internal:9092/);
    expect(prod.some((d) => d.kind === 'Job' && d.metadata.name === 'flowline-kafka-topics')).toBe(true);
  });
});

describe('deploy/Dockerfile (no Docker engine here: checked as text)', () => {
  const dockerfile = readFileSync(resolve(root, 'deploy/Dockerfile'), 'utf8');

  it('runs as the non-root node user under tini, with the console web build checked in the build stage', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime).toMatch(/apt-get install [^\n]*tini/);
    expect(dockerfile).toContain('test -f dist/services/console/web/dist/index.html');
  });

  it('exposes every service port of scripts/services.ts', async () => {
    const { SERVICES } = (await import(resolve(root, 'scripts/services.ts'))) as { SERVICES: { httpPort: number; grpcPort: number }[] };
    const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)?.[1].split(/\s+/).map(Number) ?? [];
    for (const s of SERVICES) expect(exposed).toEqual(expect.arrayContaining([s.httpPort, s.grpcPort]));
  });
});

describe('k8s/grafana dashboard', () => {
  it('parses and every flowline_* metric it queries is defined in the code', () => {
    const dash = JSON.parse(readFileSync(resolve(root, 'k8s/grafana/flowline-services.json'), 'utf8')) as Doc;
    const exprs = (dash.panels as Doc[]).flatMap((p) => (p.targets as Doc[]).map((t) => t.expr as string));
    expect(exprs.length).toBeGreaterThan(10);
    const metrics = [...new Set(exprs.flatMap((e) => e.match(/flowline_[a-z_]+/g) ?? []))].map((m) => m.replace(/_(bucket|count|sum)$/, ''));
    const source = execFileSync('grep', ['-rhoE', "'flowline_[a-z_]+'|flowline_http_server_request_duration_seconds", 'libs', 'services', '--include=*.ts'], { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const defined = new Set(source.split('\n').map((s) => s.replace(/'/g, '')));
    for (const m of metrics) expect(defined.has(m), m).toBe(true);
  });
});
