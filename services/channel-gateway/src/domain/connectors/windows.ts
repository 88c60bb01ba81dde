/** Platforms with an order API channel-gateway pulls from. */
export const PULL_PLATFORMS = ['taobao', 'jd', 'pinduoduo', 'douyin'] as const;
export type PullPlatform = (typeof PULL_PLATFORMS)[number];

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/**
 * The incremental windows each platform accepts (by modification time): Taobao at most 1 day;
 * Pinduoduo at most 30 minutes and ending at least 3 minutes behind the platform's clock; JD at most
 * a month; Douyin at most 90 days.
 */
export const WINDOW_RULES: Record<PullPlatform, { maxMs: number; lagMs: number }> = {
  taobao: { maxMs: DAY, lagMs: 0 },
  jd: { maxMs: 30 * DAY, lagMs: 0 },
  pinduoduo: { maxMs: 30 * MIN, lagMs: 3 * MIN },
  douyin: { maxMs: 90 * DAY, lagMs: 0 },
};

/** The next window after a shop's checkpoint (ending on a whole second), or null when the checkpoint is already at the limit. */
export function nextWindow(platform: PullPlatform, checkpoint: string, serverNow: string): { start: string; end: string } | null {
  const rule = WINDOW_RULES[platform];
  const from = Date.parse(checkpoint);
  const limit = Date.parse(serverNow) - rule.lagMs;
  // Whole seconds: the platforms take times to the second, so a window ends where the request says it does.
  const end = Math.floor(Math.min(from + rule.maxMs, limit) / 1000) * 1000;
  if (!(end > from)) return null;
  return { start: new Date(from).toISOString(), end: new Date(end).toISOString() };
}
