import { CheckpointEntity, MetaEntity } from './checkpoint.entity';
import { OrderSummaryEntity } from './order-summary.entity';
import { TimelineEntryEntity } from './order-timeline.entity';
import { StageVisitEntity } from './stage-durations.entity';

/** Every TypeORM entity of the tracking schema. */
export const TRACKING_ENTITIES = [OrderSummaryEntity, TimelineEntryEntity, StageVisitEntity, CheckpointEntity, MetaEntity];
