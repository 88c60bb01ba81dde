import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import type { TrackingShortageLine } from '@flowline/contracts';
import { TRACKING_SCHEMA } from '../infra/tracking-schema';

/** bigint columns hold integer minor units and stream positions, far below 2^53: read them as numbers. */
export const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/**
 * `order_summary`: one row per order (see OrderSummaryRow). tracking-schema.ts creates the
 * table; rebuilds fill a copy in another schema and swap it in under this name.
 */
@Entity({ schema: TRACKING_SCHEMA, name: 'order_summary' })
@Index('ix_order_summary_placed', ['placedAt', 'orderId'])
@Index('ix_order_summary_stage', ['stage', 'placedAt'])
@Index('ix_order_summary_colour', ['slaColour', 'placedAt'])
@Index('ix_order_summary_channel', ['channel', 'placedAt'])
@Index('ix_order_summary_stuck_at', ['stuckAt'], { where: '"stuck_at" IS NOT NULL' })
@Index('ix_order_summary_phone_tail', ['phoneTail', 'placedAt', 'orderId'], { where: '"phone_tail" IS NOT NULL' })
@Index('ix_order_summary_shortage', ['placedAt'], { where: '"shortage" IS NOT NULL' })
// GIN (USING gin), which TypeORM cannot declare: the migration owns it, TypeORM leaves it alone.
@Index('ix_order_summary_skus', { synchronize: false })
export class OrderSummaryEntity {
  @PrimaryColumn({ name: 'order_id', type: 'text' }) orderId!: string;
  @Column({ type: 'text' }) channel!: string;
  @Column({ name: 'channel_order_id', type: 'text' }) channelOrderId!: string;
  @Column({ name: 'shop_id', type: 'text' }) shopId!: string;
  @Column({ name: 'customer_masked', type: 'text', nullable: true }) customerMasked!: string | null;
  @Column({ name: 'customer_phone_masked', type: 'text', nullable: true }) customerPhoneMasked!: string | null;
  @Column({ name: 'phone_tail', type: 'text', nullable: true }) phoneTail!: string | null;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) skus!: string[];
  @Column({ type: 'text', nullable: true }) province!: string | null;
  @Column({ type: 'text', nullable: true }) city!: string | null;
  @Column({ name: 'line_count', type: 'integer' }) lineCount!: number;
  @Column({ name: 'item_count', type: 'integer' }) itemCount!: number;
  @Column({ name: 'grand_total', type: 'bigint', transformer: bigintAsNumber }) grandTotal!: number;
  @Column({ type: 'text' }) currency!: string;
  @Column({ name: 'paid_amount', type: 'bigint', transformer: bigintAsNumber }) paidAmount!: number;
  @Column({ name: 'refunded_amount', type: 'bigint', transformer: bigintAsNumber }) refundedAmount!: number;
  @Column({ type: 'text' }) stage!: string;
  @Column({ name: 'stage_entered_at', type: 'timestamptz' }) stageEnteredAt!: Date;
  @Column({ name: 'stage_visit', type: 'integer' }) stageVisit!: number;
  @Column({ name: 'on_hold', type: 'boolean' }) onHold!: boolean;
  @Column({ name: 'hold_reason', type: 'text', nullable: true }) holdReason!: string | null;
  @Column({ type: 'boolean' }) exception!: boolean;
  @Column({ name: 'exception_code', type: 'text', nullable: true }) exceptionCode!: string | null;
  @Column({ name: 'exception_reason', type: 'text', nullable: true }) exceptionReason!: string | null;
  @Column({ type: 'jsonb', nullable: true }) shortage!: TrackingShortageLine[] | null;
  @Column({ name: 'ever_exception', type: 'boolean' }) everException!: boolean;
  @Column({ name: 'manual_touch', type: 'boolean' }) manualTouch!: boolean;
  @Column({ name: 'ingest_mode', type: 'text' }) ingestMode!: string;
  @Column({ name: 'refund_requested', type: 'boolean' }) refundRequested!: boolean;
  @Column({ name: 'approval_chain', type: 'text', nullable: true }) approvalChain!: string | null;
  @Column({ name: 'last_rule_id', type: 'text', nullable: true }) lastRuleId!: string | null;
  @Column({ name: 'last_rule_set_version', type: 'text', nullable: true }) lastRuleSetVersion!: string | null;
  @Column({ name: 'last_rule_decision', type: 'text', nullable: true }) lastRuleDecision!: string | null;
  @Column({ type: 'text' }) priority!: string;
  @Column({ type: 'text', nullable: true }) carrier!: string | null;
  @Column({ name: 'tracking_number', type: 'text', nullable: true }) trackingNumber!: string | null;
  @Column({ name: 'placed_at', type: 'timestamptz' }) placedAt!: Date;
  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true }) paidAt!: Date | null;
  @Column({ name: 'ready_to_ship_at', type: 'timestamptz', nullable: true }) readyToShipAt!: Date | null;
  @Column({ name: 'shipped_at', type: 'timestamptz', nullable: true }) shippedAt!: Date | null;
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true }) deliveredAt!: Date | null;
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true }) closedAt!: Date | null;
  @Column({ name: 'sla_segment', type: 'text', nullable: true }) slaSegment!: string | null;
  @Column({ name: 'sla_started_at', type: 'timestamptz', nullable: true }) slaStartedAt!: Date | null;
  @Column({ name: 'sla_yellow_at', type: 'timestamptz', nullable: true }) slaYellowAt!: Date | null;
  @Column({ name: 'sla_due_at', type: 'timestamptz', nullable: true }) slaDueAt!: Date | null;
  @Column({ name: 'stuck_at', type: 'timestamptz', nullable: true }) stuckAt!: Date | null;
  @Column({ name: 'eta_ship_by', type: 'timestamptz', nullable: true }) etaShipBy!: Date | null;
  @Column({ name: 'last_event_at', type: 'timestamptz' }) lastEventAt!: Date;
  @Column({ name: 'last_stream_position', type: 'bigint', transformer: bigintAsNumber }) lastStreamPosition!: number;
  @Column({ name: 'event_count', type: 'integer' }) eventCount!: number;
  /** Clock-dependent: recomputed by the SLA clock job. */
  @Column({ name: 'sla_colour', type: 'text', default: 'none' }) slaColour!: string;
  @Column({ type: 'boolean', default: false }) stuck!: boolean;
  @Column({ name: 'status_at', type: 'timestamptz', nullable: true }) statusAt!: Date | null;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
