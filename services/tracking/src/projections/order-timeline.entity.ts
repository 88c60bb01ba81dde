import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TRACKING_SCHEMA } from '../infra/tracking-schema';
import { bigintAsNumber } from './order-summary.entity';

/** `timeline_entry`: one readable line per event about an order (see TimelineEntryRow). */
@Entity({ schema: TRACKING_SCHEMA, name: 'timeline_entry' })
@Index('ix_timeline_entry_order', ['orderId', 'occurredAt'])
@Index('ix_timeline_entry_actor', ['actorId', 'occurredAt'])
export class TimelineEntryEntity {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'order_id', type: 'text' }) orderId!: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'text' }) context!: string;
  @Column({ name: 'stream_id', type: 'text' }) streamId!: string;
  @Column({ name: 'stream_position', type: 'bigint', transformer: bigintAsNumber }) streamPosition!: number;
  @Column({ name: 'actor_kind', type: 'text', nullable: true }) actorKind!: string | null;
  @Column({ name: 'actor_id', type: 'text', nullable: true }) actorId!: string | null;
  @Column({ name: 'actor_role', type: 'text', nullable: true }) actorRole!: string | null;
  @Column({ name: 'actor_name', type: 'text', nullable: true }) actorName!: string | null;
  @Column({ name: 'who_zh', type: 'text' }) whoZh!: string;
  @Column({ name: 'who_en', type: 'text' }) whoEn!: string;
  @Column({ name: 'what_zh', type: 'text' }) whatZh!: string;
  @Column({ name: 'what_en', type: 'text' }) whatEn!: string;
  @Column({ name: 'why_zh', type: 'text', nullable: true }) whyZh!: string | null;
  @Column({ name: 'why_en', type: 'text', nullable: true }) whyEn!: string | null;
  @Column({ name: 'rule_id', type: 'text', nullable: true }) ruleId!: string | null;
  @Column({ name: 'rule_set_version', type: 'text', nullable: true }) ruleSetVersion!: string | null;
  @Column({ name: 'rule_set_hash', type: 'text', nullable: true }) ruleSetHash!: string | null;
  @Column({ name: 'stage_after', type: 'text', nullable: true }) stageAfter!: string | null;
  /** The event as received; as-of queries fold it again. */
  @Column({ type: 'jsonb' }) envelope!: Record<string, unknown>;
}
