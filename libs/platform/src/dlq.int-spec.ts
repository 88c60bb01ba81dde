import { Module } from '@nestjs/common';
import { createKafka, EventPublisher, ensureTopics, forgetReadiness, reportReadiness, TopicNames } from '@flowline/messaging';
import { kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapService, type RunningService } from './bootstrap';
import { PlatformModule } from './platform.module';

process.env.LOG_LEVEL ??= 'warn';

/** The dead-letter admin endpoints every service serves (the same operations as `npm run dlq`). */
const prefix = testTopicPrefix();
const names = new TopicNames(prefix);
const TOPIC = 'admindlq.commands.v1';
let kafka: Kafka;
let admin: Admin;
let publisher: EventPublisher;
let svc: RunningService;

beforeAll(async () => {
  process.env.KAFKA_TOPIC_PREFIX = prefix;
  kafka = createKafka({ brokers: kafkaBrokers(), clientId: 'admin-dlq-test' });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPIC], { partitions: 1, prefix });
  publisher = new EventPublisher({ kafka, topicPrefix: '' });
  await publisher.connect();
  await publisher.publishRaw([
    { topic: names.deadLetter(TOPIC), key: 'o1', value: Buffer.from('{not json'), headers: { 'dlq.error': 'Unexpected token n', 'dlq.attempts': '1', 'dlq.originalTopic': names.physical(TOPIC) } },
  ]);
  @Module({ imports: [PlatformModule.forRoot({ serviceName: 'admindlq', database: false, kafka: { brokers: kafkaBrokers() } })] })
  class AppModule {}
  svc = await bootstrapService({ name: 'admindlq', module: AppModule, httpPort: 0, grpcPort: 0, shutdownHooks: false });
});

afterAll(async () => {
  await svc?.close();
  await publisher?.disconnect();
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
  delete process.env.KAFKA_TOPIC_PREFIX;
});

describe('/admin/dlq', () => {
  it('lists dead letters with reason and attempts, redrives by id to the source topic, 404 for an unknown id', async () => {
    const list = (await (await fetch(`${svc.httpUrl}/admin/dlq/${TOPIC}`)).json()) as { id: string; reason: string; attempts: number; key: string }[];
    expect(list).toEqual([expect.objectContaining({ id: '0:0', reason: 'Unexpected token n', attempts: 1, key: 'o1' })]);

    const missing = await fetch(`${svc.httpUrl}/admin/dlq/${TOPIC}/redrive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['0:9'] }) });
    expect(missing.status).toBe(404);

    const res = await fetch(`${svc.httpUrl}/admin/dlq/${TOPIC}/redrive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['0:0'] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ redriven: 1, deadLetterTopic: names.deadLetter(TOPIC) });
    const offsets = await admin.fetchTopicOffsets(names.physical(TOPIC));
    expect(Number(offsets[0].high)).toBe(1);

    const metrics = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    expect(metrics).toContain(`flowline_dlq_messages{topic="${names.deadLetter(TOPIC)}"} 1`);
  });
});

describe('/health/ready and background workers', () => {
  it('goes red (503, naming the worker and why) while a consumer reports its database away, green again when it recovers; liveness stays green', async () => {
    expect((await fetch(`${svc.httpUrl}/health/ready`)).status).toBe(200);
    reportReadiness('consumer probe-group', false, 'connect ECONNREFUSED 127.0.0.1:5432');
    try {
      const red = await fetch(`${svc.httpUrl}/health/ready`);
      expect(red.status).toBe(503);
      const body = await red.text();
      expect(body).toContain('consumer probe-group');
      expect(body).toContain('ECONNREFUSED');
      expect((await fetch(`${svc.httpUrl}/health/live`)).status).toBe(200);
      reportReadiness('consumer probe-group', true);
      expect((await fetch(`${svc.httpUrl}/health/ready`)).status).toBe(200);
    } finally {
      forgetReadiness('consumer probe-group');
    }
  });
});

describe('/admin/dlq on a service without Kafka (the console)', () => {
  it('answers list and redrive with 404 naming why, not a 500 ("this service has no Kafka")', async () => {
    @Module({ imports: [PlatformModule.forRoot({ serviceName: 'nokafka', database: false, kafka: false })] })
    class NoKafkaModule {}
    const plain = await bootstrapService({ name: 'nokafka', module: NoKafkaModule, httpPort: 0, grpcPort: 0, shutdownHooks: false });
    try {
      const list = await fetch(`${plain.httpUrl}/admin/dlq/${TOPIC}`);
      expect(list.status).toBe(404);
      expect(await list.text()).toContain('nokafka does not use Kafka');
      const redrive = await fetch(`${plain.httpUrl}/admin/dlq/${TOPIC}/redrive`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ all: true }) });
      expect(redrive.status).toBe(404);
      expect((await fetch(`${plain.httpUrl}/health/live`)).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
