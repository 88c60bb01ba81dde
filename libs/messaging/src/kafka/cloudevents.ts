import { FLOWLINE_CONTRACTS, type EventEnvelope } from '@flowline/contracts';

/**
 * CloudEvents 1.0 attributes as Kafka headers (the Kafka protocol binding, binary content mode:
 * `ce_<attribute>` headers, `content-type` for datacontenttype), written next to Flowline's own
 * headers so standard tooling (Knative, Debezium, CloudEvents SDKs, Kafka UIs) can route and
 * filter without reading the value. The value stays the Flowline envelope JSON.
 */
export const CloudEventHeaders = {
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  specversion: 'ce_specversion',
  time: 'ce_time',
  subject: 'ce_subject',
  contentType: 'content-type',
} as const;

const CONTEXT_OF = new Map(FLOWLINE_CONTRACTS.map((d) => [d.type, d.context]));

/**
 * ce_id = eventId; ce_type = `flowline.<context>.<Type>.v<schemaVersion>` (e.g.
 * `flowline.orders.OrderPlaced.v1`); ce_source = `/flowline/<context>` (the publishing context);
 * ce_subject = the stream (`order-01J...`); ce_time = occurredAt.
 */
export function cloudEventHeaders(envelope: EventEnvelope): Record<string, string> {
  const context = CONTEXT_OF.get(envelope.type);
  return {
    [CloudEventHeaders.specversion]: '1.0',
    [CloudEventHeaders.id]: envelope.eventId,
    [CloudEventHeaders.type]: `flowline.${context ? `${context}.` : ''}${envelope.type}.v${envelope.schemaVersion}`,
    [CloudEventHeaders.source]: context ? `/flowline/${context}` : '/flowline',
    [CloudEventHeaders.time]: envelope.occurredAt,
    [CloudEventHeaders.subject]: envelope.streamId,
    [CloudEventHeaders.contentType]: 'application/json',
  };
}
