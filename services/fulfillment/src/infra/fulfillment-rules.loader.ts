import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { parseMergeRules, type MergeRuleSet } from '../domain/merge-parcel.decider';
import { parseSkuWeights, type SkuWeights } from '../domain/parcel-weights';

/** Rule files shipped with the service; FULFILLMENT_SKU_WEIGHTS / FULFILLMENT_MERGE_RULES name others. */
export const DEFAULT_SKU_WEIGHTS = resolve(__dirname, '../../rules/sku-weights.yaml');
export const DEFAULT_MERGE_RULES = resolve(__dirname, '../../rules/merge-rules.yaml');

export function loadSkuWeights(path = process.env.FULFILLMENT_SKU_WEIGHTS?.trim() || DEFAULT_SKU_WEIGHTS): SkuWeights {
  return parseSkuWeights(parse(readFileSync(path, 'utf8')), path);
}

export function loadMergeRules(path = process.env.FULFILLMENT_MERGE_RULES?.trim() || DEFAULT_MERGE_RULES): MergeRuleSet {
  return parseMergeRules(parse(readFileSync(path, 'utf8')), path);
}
