/**
 * Stock push-back (可销库存 to each shop): pure rules. An ATP change for a channel fans out to the
 * shops of that channel; changes of one (shop, SKU) coalesce to the newest; each shop gets at most
 * `perSecond` updates in any second (the platforms throttle stock APIs per app).
 */

/** The platform a channel's shops live on (taobao and tmall shops both speak TOP). */
export function platformsOfChannel(channel: string): string[] {
  switch (channel) {
    case 'taobao':
    case 'tmall':
      return ['taobao'];
    case 'jd':
    case 'pinduoduo':
    case 'douyin':
      return [channel];
    default:
      return [];
  }
}

/**
 * How many more updates a shop may send now, given when it sent its recent ones (ms epoch). The
 * window is a little longer than a second: the platform counts arrivals, and a request delayed on
 * the way would otherwise land in the same second as the next one.
 */
export const RATE_WINDOW_MS = 1200;

export function allowance(sentAt: readonly number[], now: number, perSecond: number, windowMs: number = RATE_WINDOW_MS): number {
  const inLastSecond = sentAt.filter((t) => now - t < windowMs).length;
  return Math.max(0, perSecond - inLastSecond);
}
