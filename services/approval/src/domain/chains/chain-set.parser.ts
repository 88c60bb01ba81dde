import { createHash } from 'node:crypto';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { ChainSetInvalid, parseDuration, type Chain, type ChainProblem, type ChainSet, type OutOfOffice, type Quorum, type SkipCondition } from './chain-set';
import { CHAIN_SET_SCHEMA } from './chain-set.schema';

/**
 * Text of a chain file -> ChainSet, or ChainSetInvalid listing every problem with its path.
 * Pure and deterministic (the hash is the file text's sha256); reading and watching the file is infra's.
 */
const ajv = new Ajv2019({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
const validate = ajv.compile(CHAIN_SET_SCHEMA);

interface RawStep {
  id: string;
  role?: string;
  approvers?: string[];
  quorum?: Quorum;
  sla?: string;
  remindAfter?: string;
  escalateTo?: { role?: string; approver?: string };
  skipWhen?: SkipCondition;
}
interface RawFile {
  chainSetVersion: string;
  description?: string;
  defaults?: { sla?: string; remindAfter?: string };
  chains: Record<string, { description?: string; steps: RawStep[] }>;
  outOfOffice?: OutOfOffice[];
}

const DEFAULT_SLA = '8h';

export function parseChainSet(text: string, options: { source?: string; format?: 'yaml' | 'json' } = {}): ChainSet {
  const source = options.source ?? 'chains';
  let raw: unknown;
  try {
    raw = options.format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ChainSetInvalid(source, [{ path: '', reason: `not valid ${options.format ?? 'YAML'}: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (!validate(raw)) throw new ChainSetInvalid(source, (validate.errors ?? []).map(schemaProblem));
  const file = raw as RawFile;
  const problems: ChainProblem[] = [];
  const chains: Record<string, Chain> = {};
  const defaultSla = parseDuration(file.defaults?.sla ?? DEFAULT_SLA);
  const defaultRemind = file.defaults?.remindAfter ? parseDuration(file.defaults.remindAfter) : Math.round(defaultSla * 0.75);
  for (const [chainId, chain] of Object.entries(file.chains)) {
    const seen = new Set<string>();
    chains[chainId] = {
      id: chainId,
      ...(chain.description ? { description: chain.description } : {}),
      steps: chain.steps.map((s, i) => {
        const path = `/chains/${chainId}/steps/${i}`;
        if (seen.has(s.id)) problems.push({ path: `${path}/id`, reason: `step id ${s.id} is used twice in chain ${chainId}` });
        seen.add(s.id);
        const quorum = s.quorum ?? 'any';
        if (quorum === 'all' && !s.approvers) problems.push({ path: `${path}/quorum`, reason: 'quorum "all" needs named approvers (a role has no fixed membership)' });
        const slaMs = s.sla ? parseDuration(s.sla) : defaultSla;
        const remindAfterMs = s.remindAfter ? parseDuration(s.remindAfter) : Math.min(defaultRemind, slaMs);
        if (remindAfterMs > slaMs) problems.push({ path: `${path}/remindAfter`, reason: `the reminder (${s.remindAfter}) comes after the SLA (${s.sla ?? file.defaults?.sla ?? DEFAULT_SLA})` });
        return {
          id: s.id,
          ...(s.role ? { role: s.role } : {}),
          ...(s.approvers ? { approvers: [...s.approvers] } : {}),
          quorum,
          slaMs,
          remindAfterMs,
          ...(s.escalateTo ? { escalateTo: { ...s.escalateTo } } : {}),
          ...(s.skipWhen ? { skipWhen: { ...s.skipWhen } } : {}),
        };
      }),
    };
  }
  for (const [i, r] of (file.outOfOffice ?? []).entries()) {
    if (r.from >= r.until) problems.push({ path: `/outOfOffice/${i}`, reason: 'from must be before until' });
    if (r.user === r.delegateTo) problems.push({ path: `/outOfOffice/${i}/delegateTo`, reason: 'a person cannot delegate to themself' });
  }
  if (problems.length > 0) throw new ChainSetInvalid(source, problems);
  return {
    version: file.chainSetVersion,
    hash: createHash('sha256').update(text).digest('hex'),
    ...(file.description ? { description: file.description } : {}),
    chains,
    outOfOffice: (file.outOfOffice ?? []).map((r) => ({ ...r })),
  };
}

function schemaProblem(e: ErrorObject): ChainProblem {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return { path: e.instancePath, reason: `unknown field ${String(params.additionalProperty)}` };
  if (e.keyword === 'required') return { path: e.instancePath, reason: `missing field ${String(params.missingProperty)}` };
  return { path: e.instancePath, reason: e.message ?? e.keyword };
}
