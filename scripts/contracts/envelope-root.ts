import type { EventEnvelope } from '../../libs/contracts/src/envelope';

/** The root type scripts/contracts/asyncapi.ts generates the envelope's JSON Schema from (`data` is set per type). */
export type PublishedEnvelope = EventEnvelope<Record<string, unknown>, string>;
