/**
 * Available-to-promise per channel and low-stock alerts: pure functions of stock levels and the
 * SKU's channel rules. Channel connectors push ATP to the platforms (可销库存).
 */

/** How much of a SKU's available stock one channel may sell. */
export interface ChannelRule {
  channel: string;
  /** Units held back from this channel only. */
  safetyStock?: number;
  /** Share of available stock this channel may promise, in whole percent (0..100). Absent: 100. */
  sharePercent?: number;
}

export interface AvailabilityRules {
  channels: readonly ChannelRule[];
  /** Alert when total available drops below this (0 or absent: never). */
  lowStockThreshold?: number;
}

/** ATP of one channel: floor(available * share) minus the channel's safety stock, never below 0. */
export function channelAtp(available: number, rule: ChannelRule): number {
  const share = rule.sharePercent ?? 100;
  const shared = Math.floor((Math.max(0, available) * share) / 100);
  return Math.max(0, shared - (rule.safetyStock ?? 0));
}

export function atpByChannel(available: number, rules: readonly ChannelRule[]): Record<string, number> {
  const atp: Record<string, number> = {};
  for (const r of rules) atp[r.channel] = channelAtp(available, r);
  return atp;
}

/** Channels whose ATP differs from what was last published (unknown previous counts as changed). */
export function atpChanges(previous: Readonly<Record<string, number>>, next: Readonly<Record<string, number>>): { channel: string; atp: number }[] {
  return Object.entries(next)
    .filter(([channel, atp]) => previous[channel] !== atp)
    .map(([channel, atp]) => ({ channel, atp }));
}

/** True when available went below the threshold with this change (one alert per crossing). */
export function lowStockCrossed(previousAvailable: number | undefined, available: number, threshold: number | undefined): boolean {
  if (!threshold || threshold <= 0) return false;
  if (available >= threshold) return false;
  return previousAvailable === undefined || previousAvailable >= threshold;
}

/** Validates channel rules at the edge (configuration), with messages a person can act on. */
export function channelRuleProblems(rules: readonly ChannelRule[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of rules) {
    if (!r.channel) problems.push('channel rule without a channel');
    if (seen.has(r.channel)) problems.push(`channel ${r.channel} appears twice`);
    seen.add(r.channel);
    if (r.safetyStock !== undefined && (!Number.isInteger(r.safetyStock) || r.safetyStock < 0)) problems.push(`channel ${r.channel}: safetyStock must be an integer >= 0`);
    if (r.sharePercent !== undefined && (!Number.isInteger(r.sharePercent) || r.sharePercent < 0 || r.sharePercent > 100)) {
      problems.push(`channel ${r.channel}: sharePercent must be an integer from 0 to 100`);
    }
  }
  return problems;
}
