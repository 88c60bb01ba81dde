import type { EventEnvelope } from '@flowline/contracts';
import { describe, expect, it } from 'vitest';
import { cloudEventHeaders } from './cloudevents';
import { Kafka } from 'kafkajs';
import { EventPublisher } from './publisher';

const envelope: EventEnvelope = {
  eventId: '01JDGZ6M3V8Q4R5S6T7U8V9W0X',
  type: 'OrderPlaced',
  schemaVersion: 1,
  streamId: 'order-01JDGZ6M3V8Q',
  streamPosition: 0,
  occurredAt: '2026-11-11T00:00:01.000Z',
  correlationId: 'c1',
  causationId: null,
  data: {},
};

describe('CloudEvents headers (Kafka binding, binary mode)', () => {
  it('carries the required attributes and the publishing context', () => {
    expect(cloudEventHeaders(envelope)).toEqual({
      ce_specversion: '1.0',
      ce_id: envelope.eventId,
      ce_type: 'flowline.orders.OrderPlaced.v1',
      ce_source: '/flowline/orders',
      ce_time: '2026-11-11T00:00:01.000Z',
      ce_subject: 'order-01JDGZ6M3V8Q',
      'content-type': 'application/json',
    });
    expect(cloudEventHeaders({ ...envelope, type: 'StockReserved', schemaVersion: 2 })).toMatchObject({ ce_type: 'flowline.inventory.StockReserved.v2', ce_source: '/flowline/inventory' });
  });

  it('is written by the publisher next to Flowline\'s own headers', () => {
    // Building a message needs no broker: the producer is created, never connected.
    const publisher = new EventPublisher({ kafka: new Kafka({ clientId: 'ce-test', brokers: ['127.0.0.1:9'] }) });
    const { message } = publisher.toKafkaMessage({ topic: 'orders.events.v1', key: 'o1', envelope, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(message.headers).toMatchObject({ eventId: envelope.eventId, type: 'OrderPlaced', ce_id: envelope.eventId, ce_type: 'flowline.orders.OrderPlaced.v1', ce_specversion: '1.0' });
  });
});
