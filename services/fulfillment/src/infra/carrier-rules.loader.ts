import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { CarrierRule, CarrierRuleSet } from '../domain/carrier-rules';

/** The rule file shipped with the service; FULFILLMENT_CARRIER_RULES names another. */
export const DEFAULT_CARRIER_RULES = resolve(__dirname, '../../rules/carrier-rules.yaml');

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Parses and checks a carrier rule file; an error names the file and the faulty path. */
export function parseCarrierRules(text: string, source = 'carrier rules'): CarrierRuleSet {
  const fail = (path: string, why: string): never => {
    throw new Error(`${source}: ${path} ${why}`);
  };
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') return fail('(root)', 'must be a mapping');
  if (typeof doc.version !== 'string' || !doc.version) fail('version', 'must be a non-empty string');
  if (typeof doc.default !== 'string' || !doc.default) fail('default', 'must be a carrier code');
  if (!Array.isArray(doc.rules)) fail('rules', 'must be a list');
  const costs = (doc.costs ?? {}) as Record<string, { default?: unknown; provinces?: Record<string, unknown> }>;
  for (const [carrier, c] of Object.entries(costs)) {
    if (!isInt(c?.default)) fail(`costs.${carrier}.default`, 'must be fen (a non-negative integer)');
    for (const [p, v] of Object.entries(c.provinces ?? {})) if (!isInt(v)) fail(`costs.${carrier}.provinces.${p}`, 'must be fen (a non-negative integer)');
    if ((c as { perKg?: unknown }).perKg !== undefined && !isInt((c as { perKg?: unknown }).perKg)) fail(`costs.${carrier}.perKg`, 'must be fen (a non-negative integer)');
  }
  // Refused, not ignored: it forced the platform's carrier on the channel's seller-shipped orders
  // (JD 商家自配送) too. Only the order's own designatedCarrier (its delivery method) designates.
  if (doc.designatedByChannel !== undefined) fail('designatedByChannel', "is no longer supported: a channel does not designate the carrier of all its orders (seller-shipped ones, e.g. JD 商家自配送, are chosen by the rules); the order's own designatedCarrier (JD 京东配送 -> JD) is honoured by a `designated` rule");
  const ids = new Set<string>();
  const rules = (doc.rules as Record<string, unknown>[]).map((r, i): CarrierRule => {
    const at = `rules[${i}]`;
    if (typeof r.id !== 'string' || !r.id) fail(`${at}.id`, 'must be a non-empty string');
    if (ids.has(r.id as string)) fail(`${at}.id`, `repeats ${String(r.id)}`);
    ids.add(r.id as string);
    const w = (r.when ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(w)) if (!['provinces', 'channels', 'minAmount', 'maxAmount', 'designated', 'minWeightGrams', 'maxWeightGrams'].includes(k)) fail(`${at}.when.${k}`, 'is not a known condition');
    if (w.provinces !== undefined && !isStrings(w.provinces)) fail(`${at}.when.provinces`, 'must be a list of province names');
    if (w.channels !== undefined && !isStrings(w.channels)) fail(`${at}.when.channels`, 'must be a list of channels');
    if (w.minAmount !== undefined && !isInt(w.minAmount)) fail(`${at}.when.minAmount`, 'must be fen');
    if (w.maxAmount !== undefined && !isInt(w.maxAmount)) fail(`${at}.when.maxAmount`, 'must be fen');
    if (w.designated !== undefined && typeof w.designated !== 'boolean') fail(`${at}.when.designated`, 'must be true or false');
    if (w.minWeightGrams !== undefined && !isInt(w.minWeightGrams)) fail(`${at}.when.minWeightGrams`, 'must be grams (a non-negative integer)');
    if (w.maxWeightGrams !== undefined && !isInt(w.maxWeightGrams)) fail(`${at}.when.maxWeightGrams`, 'must be grams (a non-negative integer)');
    const hasCarrier = typeof r.carrier === 'string' && r.carrier.length > 0;
    const hasCheapest = r.cheapestOf !== undefined;
    if (hasCarrier === hasCheapest) fail(at, 'needs exactly one of carrier or cheapestOf');
    if (hasCheapest) {
      if (!isStrings(r.cheapestOf) || r.cheapestOf.length === 0) fail(`${at}.cheapestOf`, 'must be a list of carriers');
      for (const c of r.cheapestOf as string[]) if (!costs[c]) fail(`${at}.cheapestOf`, `names ${c}, which has no cost in costs`);
    }
    return { id: r.id as string, when: w as CarrierRule['when'], ...(hasCarrier ? { carrier: r.carrier as string } : { cheapestOf: r.cheapestOf as string[] }) };
  });
  return { version: doc.version as string, default: doc.default as string, rules, costs: costs as CarrierRuleSet['costs'] };
}

export function loadCarrierRules(path = process.env.FULFILLMENT_CARRIER_RULES?.trim() || DEFAULT_CARRIER_RULES): CarrierRuleSet {
  return parseCarrierRules(readFileSync(path, 'utf8'), path);
}
