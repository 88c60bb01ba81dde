/**
 * SKUs bought together (association rules of length 2, the first level of Apriori, written once):
 * over N baskets (paid orders, each SKU counted once per order),
 * support(A,B) = n(A and B) / N, confidence(A -> B) = n(A and B) / n(A),
 * lift(A,B) = support(A,B) / (support(A) x support(B)) = n(A and B) x N / (n(A) x n(B)).
 */
export interface SkuPair {
  /** The lexically smaller SKU. */
  a: string;
  b: string;
  together: number;
  support: number;
  /** confidence(a -> b) */
  confidenceAB: number;
  /** confidence(b -> a) */
  confidenceBA: number;
  lift: number;
}

export interface SkuPairOptions {
  /** Pairs seen in fewer baskets are dropped (default 2). */
  minCount?: number;
  /** Pairs with a lower support are dropped (default 0). */
  minSupport?: number;
  /** Most pairs returned, by lift then count (default 50). */
  limit?: number;
}

export function skuPairs(baskets: string[][], options: SkuPairOptions = {}): SkuPair[] {
  const n = baskets.length;
  if (n === 0) return [];
  const single = new Map<string, number>();
  const pair = new Map<string, number>();
  for (const basket of baskets) {
    const skus = [...new Set(basket)].sort();
    for (const s of skus) single.set(s, (single.get(s) ?? 0) + 1);
    for (let i = 0; i < skus.length; i++) {
      for (let j = i + 1; j < skus.length; j++) {
        const k = `${skus[i]}\u0000${skus[j]}`;
        pair.set(k, (pair.get(k) ?? 0) + 1);
      }
    }
  }
  const minCount = options.minCount ?? 2;
  const minSupport = options.minSupport ?? 0;
  const out: SkuPair[] = [];
  for (const [k, together] of pair) {
    const [a, b] = k.split('\u0000');
    const support = together / n;
    if (together < minCount || support < minSupport) continue;
    const na = single.get(a) as number;
    const nb = single.get(b) as number;
    out.push({ a, b, together, support, confidenceAB: together / na, confidenceBA: together / nb, lift: (together * n) / (na * nb) });
  }
  out.sort((x, y) => y.lift - x.lift || y.together - x.together || (x.a + x.b < y.a + y.b ? -1 : 1));
  return out.slice(0, options.limit ?? 50);
}
