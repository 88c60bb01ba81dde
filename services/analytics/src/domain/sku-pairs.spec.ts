import { describe, expect, it } from 'vitest';
import { skuPairs } from './sku-pairs';

// Six baskets. n(milk)=4, n(bread)=3, n(butter)=2, n(beer)=2, n(diapers)=2, N=6. Hand computation:
//   beer+diapers  2 together: support 2/6, conf 2/2 both ways, lift 2*6/(2*2) = 3
//   bread+butter  2 together: support 2/6, conf bread->butter 2/3, butter->bread 2/2, lift 2*6/(3*2) = 2
//   bread+milk    2 together: support 2/6, conf bread->milk 2/3, milk->bread 2/4, lift 2*6/(3*4) = 1
//   butter+milk, beer+milk, diapers+milk: 1 together each, lift 1*6/(2*4) = 0.75 (below minCount 2)
const BASKETS = [
  ['milk', 'bread'],
  ['milk', 'bread', 'butter'],
  ['bread', 'butter', 'bread'], // a SKU on two lines counts once
  ['milk'],
  ['beer', 'diapers'],
  ['beer', 'diapers', 'milk'],
];

describe('SKU pairs (support, confidence, lift)', () => {
  it('equal the hand-computed fixture, strongest lift first', () => {
    expect(skuPairs(BASKETS)).toEqual([
      { a: 'beer', b: 'diapers', together: 2, support: 2 / 6, confidenceAB: 1, confidenceBA: 1, lift: 3 },
      { a: 'bread', b: 'butter', together: 2, support: 2 / 6, confidenceAB: 2 / 3, confidenceBA: 1, lift: 2 },
      { a: 'bread', b: 'milk', together: 2, support: 2 / 6, confidenceAB: 2 / 3, confidenceBA: 2 / 4, lift: 1 },
    ]);
  });

  it('keeps rarer pairs when asked, with their lift', () => {
    const all = skuPairs(BASKETS, { minCount: 1 });
    expect(all).toHaveLength(6);
    expect(all.find((p) => p.a === 'butter' && p.b === 'milk')).toMatchObject({ together: 1, support: 1 / 6, lift: 0.75 });
  });
});
