import type { DataSource } from 'typeorm';
import type { Clock } from '../infra/clock';
import { changeNotifications, ORDER_CHANGED_CHANNEL } from '../infra/projection-store';
import { CLOCK_JOB_LOCK, PROJECTION_SWAP_LOCK, table, TRACKING_SCHEMA } from '../infra/tracking-schema';

export interface ClockTickResult {
  at: string;
  /** Orders whose colour or stuck flag changed at this tick. */
  changed: { orderId: string; slaColour: string; stuck: boolean }[];
  /** False when another replica held the job lock (nothing done). */
  ran: boolean;
}

/**
 * Recomputes the time-dependent status of every order against the stored deadlines, so an order
 * turns yellow, red or stuck with no new event. The rule is the one `slaColour` states:
 * red after `sla_due_at`, yellow from `sla_yellow_at`, green before. One replica runs it at a time.
 */
export class SlaClockJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().catch(() => undefined).finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One recomputation at `now` (default: the clock). Tests call it with a chosen time. */
  async tick(now: Date = this.clock.now()): Promise<ClockTickResult> {
    const at = now.toISOString();
    const S = table(TRACKING_SCHEMA, 'order_summary');
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [CLOCK_JOB_LOCK]);
      if (!locked) return { at, changed: [], ran: false };
      await manager.query('SELECT pg_advisory_xact_lock_shared($1)', [PROJECTION_SWAP_LOCK]);
      const rows: { order_id: string; sla_colour: string; stuck: boolean }[] = await manager.query(
        `WITH c AS (
           SELECT "order_id",
             CASE WHEN "sla_due_at" IS NULL THEN 'none'
                  WHEN $1::timestamptz > "sla_due_at" THEN 'red'
                  WHEN $1::timestamptz >= "sla_yellow_at" THEN 'yellow'
                  ELSE 'green' END AS colour,
             ("stuck_at" IS NOT NULL AND $1::timestamptz >= "stuck_at") AS stuck
           FROM ${S}
           WHERE "sla_due_at" IS NOT NULL OR "stuck_at" IS NOT NULL OR "sla_colour" <> 'none' OR "stuck"
         )
         UPDATE ${S} o SET "sla_colour" = c.colour, "stuck" = c.stuck, "status_at" = $1::timestamptz
         FROM c WHERE o."order_id" = c."order_id" AND (o."sla_colour" <> c.colour OR o."stuck" <> c.stuck)
         RETURNING o."order_id", o."sla_colour", o."stuck"`,
        [at],
      ).then((r: unknown) => (Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r) as { order_id: string; sla_colour: string; stuck: boolean }[]);
      if (rows.length > 0) {
        await manager.query(`SELECT pg_notify('${ORDER_CHANGED_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [changeNotifications(rows.map((r) => r.order_id))]);
      }
      return { at, changed: rows.map((r) => ({ orderId: r.order_id, slaColour: r.sla_colour, stuck: r.stuck })), ran: true };
    });
  }
}
