import { createHash } from 'node:crypto';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019';
import { parse as parseYaml } from 'yaml';
import {
  FACT_TYPES,
  OPERATORS,
  RuleSetInvalid,
  type Condition,
  type Predicate,
  type Rule,
  type RuleProblem,
  type RuleSet,
  type RuleValue,
  type Scalar,
} from './rule-set';
import { RULE_SET_SCHEMA } from './rule-set.schema';

/**
 * Turns the text of a rule file into a RuleSet, or throws RuleSetInvalid listing every problem
 * with the rule id and the reason. Pure and deterministic (the hash is a function of the input);
 * reading the file and watching it for changes is infra's job.
 */

const ajv = new Ajv2019({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
const validateSchema = ajv.compile(RULE_SET_SCHEMA);

export interface ParseOptions {
  /** Name shown in errors, e.g. the file path. */
  source?: string;
  /** `yaml` (default; JSON is valid YAML too) or `json`. */
  format?: 'yaml' | 'json';
  /** Values that replace the file's `params` (configuration, e.g. the approval threshold from env). */
  paramOverrides?: Record<string, Scalar>;
}

export function parseRuleSet(text: string, options: ParseOptions = {}): RuleSet {
  const source = options.source ?? 'rules';
  let raw: unknown;
  try {
    raw = options.format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RuleSetInvalid(source, [{ path: '', reason: `not valid ${options.format ?? 'YAML'}: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && options.paramOverrides && Object.keys(options.paramOverrides).length > 0) {
    const r = raw as { params?: Record<string, unknown> };
    r.params = { ...(r.params ?? {}), ...options.paramOverrides };
  }
  if (!validateSchema(raw)) {
    throw new RuleSetInvalid(source, schemaProblems(raw, validateSchema.errors ?? []));
  }
  const file = raw as { ruleSetVersion: string; description?: string; params?: Record<string, Scalar>; rules: Rule[] };
  const params = file.params ?? {};
  const problems = semanticProblems(file.rules, params);
  if (problems.length > 0) throw new RuleSetInvalid(source, problems);

  const hash = createHash('sha256').update(text);
  if (options.paramOverrides && Object.keys(options.paramOverrides).length > 0) {
    hash.update('\0params:' + JSON.stringify(Object.entries(options.paramOverrides).sort(([a], [b]) => a.localeCompare(b))));
  }
  return {
    ruleSetVersion: file.ruleSetVersion,
    hash: `sha256:${hash.digest('hex').slice(0, 12)}`,
    ...(file.description !== undefined ? { description: file.description } : {}),
    params,
    rules: file.rules,
  };
}

/** `/rules/1/when/any/0/op` -> `rules[1].when.any[0].op` */
function toPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function ruleIdAt(raw: unknown, pointer: string): string | undefined {
  const m = /^\/rules\/(\d+)/.exec(pointer);
  if (!m) return undefined;
  const rules = (raw as { rules?: unknown })?.rules;
  const rule = Array.isArray(rules) ? rules[Number(m[1])] : undefined;
  const id = (rule as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : `#${m[1]}`;
}

function describe(e: ErrorObject): string | null {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
      return null; // the failing `then` branch reports the actual problem
    case 'required':
      return `missing property "${String(p.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown property "${String(p.additionalProperty)}"`;
    case 'enum':
      return `${JSON.stringify(e.data)} is not allowed; must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be of type ${String(p.type)}`;
    case 'pattern':
      return `must match ${String(p.pattern)}`;
    case 'minItems':
      return `must have at least ${String(p.limit)} item(s)`;
    case 'minLength':
      return `must not be empty`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'propertyNames':
      return `has an invalid parameter name "${String(p.propertyName)}"`;
    default:
      return e.message ?? e.keyword;
  }
}

function schemaProblems(raw: unknown, errors: ErrorObject[]): RuleProblem[] {
  const seen = new Set<string>();
  const out: RuleProblem[] = [];
  for (const e of errors) {
    const reason = describe(e);
    if (reason === null) continue;
    const path = toPath(e.instancePath);
    const key = `${path}|${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const ruleId = ruleIdAt(raw, e.instancePath);
    out.push({ ...(ruleId ? { ruleId } : {}), path, reason });
  }
  return out;
}

function isParamRef(v: RuleValue): v is { param: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { param?: unknown }).param === 'string';
}

function typeOfScalar(v: unknown): 'string' | 'number' | 'boolean' | 'other' {
  return typeof v === 'string' ? 'string' : typeof v === 'number' && Number.isFinite(v) ? 'number' : typeof v === 'boolean' ? 'boolean' : 'other';
}

function semanticProblems(rules: Rule[], params: Record<string, Scalar>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const ids = new Map<string, number>();
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (ids.has(rule.id)) problems.push({ ruleId: rule.id, path: `${at}.id`, reason: `duplicate rule id (also rules[${ids.get(rule.id)}])` });
    else ids.set(rule.id, i);
    checkCondition(rule.when, `${at}.when`, (path, reason) => problems.push({ ruleId: rule.id, path, reason }), params);
  });
  return problems;
}

function checkCondition(c: Condition, path: string, report: (path: string, reason: string) => void, params: Record<string, Scalar>): void {
  if ('all' in c) return c.all.forEach((x, i) => checkCondition(x, `${path}.all[${i}]`, report, params));
  if ('any' in c) return c.any.forEach((x, i) => checkCondition(x, `${path}.any[${i}]`, report, params));
  if ('not' in c) return checkCondition(c.not, `${path}.not`, report, params);
  checkPredicate(c, path, report, params);
}

function checkPredicate(p: Predicate, path: string, report: (path: string, reason: string) => void, params: Record<string, Scalar>): void {
  const factType = FACT_TYPES[p.fact];
  const allowed: readonly string[] = OPERATORS[p.op];
  if (!allowed.includes(factType)) {
    report(`${path}.op`, `operator ${p.op} does not apply to ${p.fact}, which is a ${factType}`);
    return;
  }
  let value: unknown = p.value;
  if (isParamRef(p.value)) {
    if (!(p.value.param in params)) {
      report(`${path}.value.param`, `unknown parameter "${p.value.param}"`);
      return;
    }
    value = params[p.value.param];
  }
  const listOp = p.op === 'in' || p.op === 'notIn' || p.op === 'containsAny';
  if (listOp) {
    if (!Array.isArray(value) || value.length === 0) return report(`${path}.value`, `operator ${p.op} needs a non-empty list`);
    const want = p.op === 'containsAny' ? 'string' : factType;
    const bad = value.findIndex((v) => typeOfScalar(v) !== want);
    if (bad >= 0) report(`${path}.value[${bad}]`, `must be a ${want} to compare with ${p.fact}`);
    return;
  }
  const want = factType === 'list' ? 'string' : factType;
  if (typeOfScalar(value) !== want) report(`${path}.value`, `must be a ${want} to compare with ${p.fact}${isParamRef(p.value) ? ` (parameter "${p.value.param}")` : ''}`);
}
