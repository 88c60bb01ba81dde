import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TRACKING_SCHEMA } from '../infra/tracking-schema';
import { bigintAsNumber } from './order-summary.entity';

/** `stage_visit`: one row per stay of an order in a stage (see StageVisitRow). */
@Entity({ schema: TRACKING_SCHEMA, name: 'stage_visit' })
@Index('ix_stage_visit_left_closed', ['leftAt', 'stage'], { where: '"left_at" IS NOT NULL' })
export class StageVisitEntity {
  @PrimaryColumn({ name: 'order_id', type: 'text' }) orderId!: string;
  @PrimaryColumn({ type: 'integer' }) visit!: number;
  @Column({ type: 'text' }) stage!: string;
  @Column({ type: 'text' }) channel!: string;
  @Column({ name: 'entered_at', type: 'timestamptz' }) enteredAt!: Date;
  @Column({ name: 'left_at', type: 'timestamptz', nullable: true }) leftAt!: Date | null;
  @Column({ name: 'duration_ms', type: 'bigint', nullable: true, transformer: bigintAsNumber }) durationMs!: number | null;
}
