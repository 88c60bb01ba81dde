/**
 * Parcel weights (pure): a line's weight is the one the order gives (StartFulfillment
 * `lines[].weightGrams`, the whole line) or else its SKU's configured unit weight times the
 * quantity (rules/sku-weights.yaml, `default` for SKUs not listed). A parcel weighs the sum of its
 * lines; the carrier rules choose with it and the label prints it.
 */
export interface SkuWeights {
  version: string;
  /** Unit weight in grams of a SKU not listed. */
  defaultGrams: number;
  /** Unit weight in grams per SKU. */
  skus: Record<string, number>;
}

export interface WeighableLine {
  sku: string;
  quantity: number;
  /** The whole line's weight, when the order knows it. */
  weightGrams?: number;
}

export function lineWeightGrams(line: WeighableLine, weights: SkuWeights): number {
  if (line.weightGrams !== undefined) return line.weightGrams;
  return (weights.skus[line.sku] ?? weights.defaultGrams) * line.quantity;
}

/** The lines with their weight filled in (the order's own, else the configured one). */
export function withWeights<L extends WeighableLine>(lines: readonly L[], weights: SkuWeights): (L & { weightGrams: number })[] {
  return lines.map((l) => ({ ...l, weightGrams: lineWeightGrams(l, weights) }));
}

export function parcelWeightGrams(lines: readonly WeighableLine[], weights?: SkuWeights): number {
  return lines.reduce((sum, l) => sum + (weights ? lineWeightGrams(l, weights) : (l.weightGrams ?? 0)), 0);
}

/** Checks a weights document given as data; an error names the faulty path. */
export function parseSkuWeights(doc: unknown, source = 'sku weights'): SkuWeights {
  const fail = (path: string, why: string): never => {
    throw new Error(`${source}: ${path} ${why}`);
  };
  if (!doc || typeof doc !== 'object') return fail('(root)', 'must be a mapping');
  const d = doc as Record<string, unknown>;
  if (typeof d.version !== 'string' || !d.version) fail('version', 'must be a non-empty string');
  const grams = (v: unknown, path: string): number => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : fail(path, 'must be grams (a positive integer)'));
  const skus: Record<string, number> = {};
  for (const [sku, v] of Object.entries((d.skus ?? {}) as Record<string, unknown>)) skus[sku] = grams(v, `skus.${sku}`);
  return { version: d.version as string, defaultGrams: grams(d.default, 'default'), skus };
}
