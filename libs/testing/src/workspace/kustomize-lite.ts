import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The subset of kustomize (v5) that k8s/ uses, for machines without kubectl (CI on a fresh
 * machine: Debian 12's kubernetes-client is kubectl 1.20, whose kustomize knows no components).
 * k8s-manifests.spec.ts checks that it renders exactly what `kubectl kustomize` renders wherever
 * kubectl is installed, so it cannot drift silently. Supported: resources (files and directories),
 * components, namespace, labels (pairs, metadata only), images (newName/newTag), patches with a
 * target {kind, name} holding JSON 6902 ops (add/replace/remove) or a `$patch: delete`, and
 * configMapGenerator with behavior merge + literals. Anything else throws.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kubernetes objects are open-ended YAML
type Obj = Record<string, any>;

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'PersistentVolume']);
const KNOWN_KEYS = new Set(['apiVersion', 'kind', 'resources', 'components', 'namespace', 'labels', 'images', 'patches', 'configMapGenerator', 'generatorOptions']);

function kustomizationOf(dir: string): Obj {
  for (const f of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const p = join(dir, f);
    if (existsSync(p)) return parse(readFileSync(p, 'utf8')) as Obj;
  }
  throw new Error(`no kustomization in ${dir}`);
}

function readObjects(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && typeof o === 'object');
}

function pointer(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyJson6902(obj: Obj, ops: Obj[]): void {
  for (const op of ops) {
    const keys = pointer(op.path as string);
    const last = keys.pop() as string;
    let parent: Obj = obj;
    for (const k of keys) {
      if (parent[k] === undefined) throw new Error(`patch path ${op.path} missing at ${k}`);
      parent = parent[k];
    }
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    if (op.op === 'replace') {
      if (parent[index as string] === undefined) throw new Error(`replace: ${op.path} does not exist`);
      parent[index as string] = structuredClone(op.value);
    } else if (op.op === 'add') {
      if (Array.isArray(parent)) parent.splice(index as number, 0, structuredClone(op.value));
      else parent[last] = structuredClone(op.value);
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(index as number, 1);
      else delete parent[last];
    } else throw new Error(`unsupported patch op ${op.op}`);
  }
}

function matches(o: Obj, target: Obj): boolean {
  return (!target.kind || o.kind === target.kind) && (!target.name || o.metadata?.name === target.name);
}

function containersOf(o: Obj): Obj[] {
  const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
}

export function kustomizeBuild(dir: string): Obj[] {
  return build(resolve(dir), false);
}

function build(dir: string, asComponent: boolean): Obj[] {
  const k = kustomizationOf(dir);
  for (const key of Object.keys(k)) if (!KNOWN_KEYS.has(key)) throw new Error(`${dir}: kustomize-lite does not support ${key}`);
  if (asComponent !== (k.kind === 'Component')) throw new Error(`${dir}: kind ${k.kind} used as ${asComponent ? 'component' : 'resource'}`);
  let objs: Obj[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const p = resolve(dir, r);
    objs.push(...(statSync(p).isDirectory() ? build(p, false) : readObjects(p)));
  }
  // A component's resources join the including kustomization's, and its patches apply to them all.
  if (asComponent) return objs;
  for (const c of (k.components ?? []) as string[]) {
    const cdir = resolve(dir, c);
    objs = transformPatches(kustomizationOf(cdir), [...objs, ...build(cdir, true)]);
  }
  return transform(k, objs, dir);
}

function transformPatches(k: Obj, objs: Obj[]): Obj[] {
  let out = objs;
  for (const p of (k.patches ?? []) as Obj[]) {
    if (!p.target || typeof p.patch !== 'string') throw new Error('kustomize-lite: patches need target and an inline patch');
    const body = parse(p.patch) as Obj | Obj[];
    if (Array.isArray(body)) {
      for (const o of out) if (matches(o, p.target)) applyJson6902(o, body);
    } else if (body.$patch === 'delete') {
      out = out.filter((o) => !(matches(o, p.target) && matches(o, { kind: body.kind, name: body.metadata?.name })));
    } else throw new Error('kustomize-lite: only JSON 6902 patches and $patch: delete');
  }
  return out;
}

function transform(k: Obj, input: Obj[], dir: string): Obj[] {
  let objs = input;
  for (const g of (k.configMapGenerator ?? []) as Obj[]) {
    if (g.behavior !== 'merge' || !k.generatorOptions?.disableNameSuffixHash) throw new Error(`${dir}: only configMapGenerator behavior merge without name hash`);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === g.name);
    if (!cm) throw new Error(`${dir}: no ConfigMap ${g.name} to merge into`);
    for (const l of (g.literals ?? []) as string[]) {
      const i = l.indexOf('=');
      cm.data = { ...cm.data, [l.slice(0, i)]: l.slice(i + 1) };
    }
  }
  objs = transformPatches(k, objs);
  if (k.namespace) for (const o of objs) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  for (const l of (k.labels ?? []) as Obj[]) {
    if (l.includeSelectors || l.includeTemplates) throw new Error(`${dir}: labels only on metadata`);
    for (const o of objs) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
  }
  for (const img of (k.images ?? []) as Obj[])
    for (const o of objs)
      for (const c of containersOf(o)) {
        const name = String(c.image).replace(/[@:][^/]*$/, '');
        if (name === img.name) c.image = `${img.newName ?? img.name}:${img.newTag}`;
      }
  return objs;
}
