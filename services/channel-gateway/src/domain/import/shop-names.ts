/**
 * Shop names as platform exports write them (店铺名称) -> the shop ids staff are scoped by and
 * connectors pull for (`tmall-flagship`). An import that finds a known name places the order under
 * its id, so staff limited to that shop see it; an unknown name stays the shop id, as the file gives it.
 */
export interface ShopNameEntry {
  /** The channel the name belongs to (taobao, tmall, jd ...); absent: any channel. */
  channel?: string;
  shopId: string;
  names: string[];
}

/** Case, width and spaces do not matter: `茶语 天猫旗舰店` and `茶语天猫旗舰店` are one shop. */
const normalize = (name: string): string => name.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

/** The resolver of a list of entries: a channel's own entry first, then one for any channel. */
export function shopNameResolver(entries: readonly ShopNameEntry[]): (channel: string, name: string) => string | undefined {
  const byChannel = new Map<string, string>();
  for (const e of entries) for (const n of [e.shopId, ...e.names]) byChannel.set(`${e.channel ?? '*'}|${normalize(n)}`, e.shopId);
  return (channel, name) => {
    const key = normalize(name);
    return byChannel.get(`${channel}|${key}`) ?? byChannel.get(`*|${key}`);
  };
}

/**
 * Parses CHANNEL_IMPORT_SHOPS: a JSON array of `{channel?, shopId, names}`. Throws naming what is
 * wrong (a boot with a broken mapping fails loudly rather than placing orders under raw names).
 */
export function parseShopNames(raw: string): ShopNameEntry[] {
  const parsed = JSON.parse(raw) as unknown;
  if (!Array.isArray(parsed)) throw new Error('CHANNEL_IMPORT_SHOPS must be a JSON array of {channel?, shopId, names: [..]}');
  return parsed.map((e: unknown, i) => {
    const x = e as Partial<ShopNameEntry> | null;
    if (!x || typeof x.shopId !== 'string' || !x.shopId.trim()) throw new Error(`CHANNEL_IMPORT_SHOPS[${i}].shopId must be a non-empty string`);
    if (!Array.isArray(x.names) || x.names.some((n) => typeof n !== 'string' || !n.trim())) throw new Error(`CHANNEL_IMPORT_SHOPS[${i}].names must be an array of shop names`);
    if (x.channel !== undefined && (typeof x.channel !== 'string' || !x.channel.trim())) throw new Error(`CHANNEL_IMPORT_SHOPS[${i}].channel must be a channel such as tmall`);
    return { ...(x.channel ? { channel: x.channel } : {}), shopId: x.shopId.trim(), names: x.names.map((n) => n.trim()) };
  });
}
