import type { OrderStage } from '@flowline/contracts';

/** Traffic-light status of an order against its stage budget. `none`: the stage has no budget. */
export type SlaColour = 'green' | 'yellow' | 'red' | 'none';

/**
 * One SLA budget. A segment spans consecutive stages: its clock starts when the order enters the
 * first of them and stops when it leaves the last (paid -> ready_to_ship spans paid and stock_reserved).
 */
export interface SlaSegment {
  /** Stable id, e.g. `paid_to_ready`; stored with the order so a config change is visible. */
  id: string;
  stages: OrderStage[];
  budgetMs: number;
  /** Only some orders pass through it (approval); left out of the ship-by estimate unless the order is in it. */
  optional?: boolean;
}

export interface SlaConfig {
  /** Segments in journey order (the ship-by estimate adds up the budgets from the current one on). */
  segments: SlaSegment[];
  /** Share of the budget after which an order turns yellow (0.8 = yellow from 80% to 100%, red beyond). */
  yellowAt: number;
  /** Time in one stage after which an order is stuck. */
  stuckAfterMs: number;
  /** Stages where waiting is not our doing (carrier, after-sales window) or that are terminal: never stuck. */
  notStuckStages: OrderStage[];
}

const HOUR = 3_600_000;

/** Defaults from the business: paid -> ready_to_ship 2 h, approval 8 h, ready_to_ship -> shipped 24 h, stuck after 24 h. */
export const DEFAULT_SLA_CONFIG: SlaConfig = {
  segments: [
    { id: 'paid_to_ready', stages: ['paid', 'stock_reserved'], budgetMs: 2 * HOUR },
    { id: 'approval', stages: ['awaiting_approval'], budgetMs: 8 * HOUR, optional: true },
    { id: 'ready_to_shipped', stages: ['ready_to_ship', 'packed'], budgetMs: 24 * HOUR },
  ],
  yellowAt: 0.8,
  stuckAfterMs: 24 * HOUR,
  notStuckStages: ['shipped', 'delivered', 'archived', 'cancelled', 'refunded'],
};

/** The segment whose clock runs while an order is in `stage`, if any. */
export function segmentOf(stage: OrderStage, config: SlaConfig): SlaSegment | undefined {
  return config.segments.find((s) => s.stages.includes(stage));
}

/** When the order turns yellow and red, given when it entered the stage's segment. */
export function slaDeadlines(stage: OrderStage, enteredAt: string, config: SlaConfig): { segment: SlaSegment; yellowAt: string; dueAt: string } | undefined {
  const segment = segmentOf(stage, config);
  if (!segment) return undefined;
  const start = Date.parse(enteredAt);
  return {
    segment,
    yellowAt: new Date(start + Math.ceil(segment.budgetMs * config.yellowAt)).toISOString(),
    dueAt: new Date(start + segment.budgetMs).toISOString(),
  };
}

/**
 * SLA colour of an order in `stage` whose segment clock started at `enteredAt`, seen at `now`:
 * green below `yellowAt` of the budget, yellow up to 100%, red beyond. Pure: `now` comes in.
 */
export function slaColour(stage: OrderStage, enteredAt: string, now: string, config: SlaConfig = DEFAULT_SLA_CONFIG): SlaColour {
  const segment = segmentOf(stage, config);
  if (!segment) return 'none';
  const elapsed = Date.parse(now) - Date.parse(enteredAt);
  if (elapsed > segment.budgetMs) return 'red';
  if (elapsed >= segment.budgetMs * config.yellowAt) return 'yellow';
  return 'green';
}

/** When an order that entered `stage` at `enteredAt` becomes stuck (undefined for stages that never are). */
export function stuckAt(stage: OrderStage, enteredAt: string, config: SlaConfig = DEFAULT_SLA_CONFIG): string | undefined {
  if (config.notStuckStages.includes(stage)) return undefined;
  return new Date(Date.parse(enteredAt) + config.stuckAfterMs).toISOString();
}

/** Whether an order in `stage` since `enteredAt` is stuck at `now`. */
export function isStuck(stage: OrderStage, enteredAt: string, now: string, config: SlaConfig = DEFAULT_SLA_CONFIG): boolean {
  const at = stuckAt(stage, enteredAt, config);
  return at !== undefined && Date.parse(now) >= Date.parse(at);
}

/**
 * Ship-by estimate: the start of the current segment plus its budget and the budgets of the
 * mandatory segments after it. Undefined before payment and once shipped or closed.
 */
export function etaShipBy(stage: OrderStage, segmentEnteredAt: string, config: SlaConfig = DEFAULT_SLA_CONFIG): string | undefined {
  const index = config.segments.findIndex((s) => s.stages.includes(stage));
  if (index < 0) return undefined;
  let total = 0;
  config.segments.forEach((s, i) => {
    if (i === index || (i > index && !s.optional)) total += s.budgetMs;
  });
  return new Date(Date.parse(segmentEnteredAt) + total).toISOString();
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: HOUR, d: 24 * HOUR };

/** Parses `90m`, `2h`, `1.5d`, `500ms` or a bare number of milliseconds. */
export function parseDuration(raw: string): number {
  const t = raw.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = DURATION.exec(t);
  if (!m) throw new Error(`not a duration: "${raw}" (use e.g. 90m, 2h, 1d)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/**
 * SLA config from the environment, on top of the defaults:
 * `TRACKING_SLA_PAID_TO_READY`, `TRACKING_SLA_APPROVAL`, `TRACKING_SLA_READY_TO_SHIPPED` (durations),
 * `TRACKING_SLA_YELLOW_AT` (0..1), `TRACKING_STUCK_AFTER` (duration).
 */
export function slaConfigFromEnv(env: Record<string, string | undefined>): SlaConfig {
  const byId: Record<string, string | undefined> = {
    paid_to_ready: env.TRACKING_SLA_PAID_TO_READY,
    approval: env.TRACKING_SLA_APPROVAL,
    ready_to_shipped: env.TRACKING_SLA_READY_TO_SHIPPED,
  };
  const yellowAt = env.TRACKING_SLA_YELLOW_AT ? Number(env.TRACKING_SLA_YELLOW_AT) : DEFAULT_SLA_CONFIG.yellowAt;
  if (!(yellowAt > 0 && yellowAt <= 1)) throw new Error(`TRACKING_SLA_YELLOW_AT must be in (0, 1], got "${env.TRACKING_SLA_YELLOW_AT}"`);
  return {
    ...DEFAULT_SLA_CONFIG,
    segments: DEFAULT_SLA_CONFIG.segments.map((s) => (byId[s.id] ? { ...s, budgetMs: parseDuration(byId[s.id]!) } : s)),
    yellowAt,
    stuckAfterMs: env.TRACKING_STUCK_AFTER ? parseDuration(env.TRACKING_STUCK_AFTER) : DEFAULT_SLA_CONFIG.stuckAfterMs,
  };
}
