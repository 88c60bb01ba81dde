import type { EventEnvelope } from '../../libs/contracts/src/envelope';

/**
 * Every Flowline message on Kafka: the envelope (its `data` is set per type by
 * scripts/contracts/asyncapi.ts). An interface, not an alias, so the generated schema is plain.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type -- the root the schema generator needs
export interface PublishedEnvelope extends EventEnvelope<Record<string, unknown>, string> {}
