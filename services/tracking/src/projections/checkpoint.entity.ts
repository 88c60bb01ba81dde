import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TRACKING_SCHEMA } from '../infra/tracking-schema';

/**
 * `checkpoint`: the last event applied per topic partition, written in the same transaction as the
 * rows it produced. Projection lag is measured from it, and a rebuild swaps only once its own
 * checkpoints reach the live ones.
 */
@Entity({ schema: TRACKING_SCHEMA, name: 'checkpoint' })
export class CheckpointEntity {
  @PrimaryColumn({ type: 'text' }) topic!: string;
  @PrimaryColumn({ type: 'integer' }) partition!: number;
  @Column({ type: 'bigint' }) offset!: string;
  @Column({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'applied_at', type: 'timestamptz' }) appliedAt!: Date;
}

/** `meta`: facts about the schema itself (when and how it was built). */
@Entity({ schema: TRACKING_SCHEMA, name: 'meta' })
export class MetaEntity {
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'jsonb' }) value!: unknown;
}

