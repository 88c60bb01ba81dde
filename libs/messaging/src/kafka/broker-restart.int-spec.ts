import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, uniqueSuffix } from '@flowline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic, testEnvelope } from '../testing/fixtures';
import { createKafka } from './config';
import { EventPublisher } from './publisher';
import { ensureTopics } from './topics';

/*
 * The idempotent publisher through a broker restart. This file runs its OWN broker on private
 * ports (never the shared one on 9092, which other tests use), started and stopped here.
 */

const run = promisify(execFile);
const PORT = 29392;
const broker = {
  KAFKA_PORT: String(PORT),
  KAFKA_CONTROLLER_PORT: String(PORT + 1),
  KAFKA_DATA_DIR: resolve(REPO_ROOT, '.data/kafka-messaging-restart'),
  KAFKA_HEAP: '512m',
};

async function kafkaSh(command: 'start' | 'stop' | 'reset'): Promise<void> {
  await run('bash', [resolve(REPO_ROOT, 'scripts/kafka.sh'), command], { env: { ...process.env, ...broker }, timeout: 120_000 });
}

function brokerPid(): number {
  return Number(readFileSync(resolve(broker.KAFKA_DATA_DIR, 'kafka.pid'), 'utf8').trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  await kafkaSh('reset');
  await kafkaSh('start');
  kafka = createKafka({ brokers: [`127.0.0.1:${PORT}`], clientId: 'restart-test', logLevel: 0 });
  admin = kafka.admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => undefined);
  await kafkaSh('reset');
}, 120_000);

/**
 * Issues `total` single-message publishes in waves (all in flight together, like request
 * handlers would) and runs `disrupt` once `disruptAfter` of them were acknowledged.
 */
async function burst(topic: string, total: number, disruptAfter: number, disrupt: () => Promise<void>) {
  const publisher = new EventPublisher({ kafka, topicPrefix: '', maxBatchSize: 100, logger: { info() {}, warn() {}, error() {} } });
  await publisher.connect();
  let acked = 0;
  let ackedAtDisruption = -1;
  let ackedAfterDisruption = -1;
  let disruption: Promise<void> | null = null;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const orderId = `o${i % 97}`;
    sends.push(
      publisher.publish([{ topic, key: orderId, envelope: testEnvelope(orderId, i) }]).then(() => {
        acked++;
        if (acked === disruptAfter) {
          ackedAtDisruption = acked;
          disruption = disrupt().then(() => {
            ackedAfterDisruption = acked;
          });
        }
      }),
    );
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
  }
  const settled = await Promise.allSettled(sends);
  await disruption;
  await publisher.disconnect();
  const reasons = [...new Set(settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error)?.stack ?? s.reason)] : [])))];
  if (reasons.length) console.error('REJECTED', reasons);
  return { failed: settled.filter((s) => s.status === 'rejected').length, ackedAtDisruption, ackedAfterDisruption };
}

describe('idempotent publisher across a broker restart', () => {
  it('writes each of 5,000 concurrent sends exactly once when the broker restarts mid-burst', async () => {
    const topic = `restart-${uniqueSuffix()}.events.v1`;
    await ensureTopics(admin, [topic], { partitions: 12, deadLetters: false });
    const pidBefore = brokerPid();
    const result = await burst(topic, 5_000, 1_000, async () => {
      await kafkaSh('stop');
      await kafkaSh('start');
    });
    expect(brokerPid()).not.toBe(pidBefore);
    expect(result.failed).toBe(0);
    // The restart really happened in the middle: sends were still outstanding when it began.
    expect(result.ackedAtDisruption).toBe(1_000);
    expect(result.ackedAfterDisruption).toBeLessThan(5_000);

    const messages = await readWholeTopic(kafka, admin, topic);
    const ids = messages.map((m) => m.headers.eventId);
    expect(messages).toHaveLength(5_000);
    expect(new Set(ids).size).toBe(5_000);
  });

  it('writes each of 5,000 concurrent sends exactly once when the broker is SIGKILLed mid-burst', async () => {
    const topic = `killed-${uniqueSuffix()}.events.v1`;
    await ensureTopics(admin, [topic], { partitions: 12, deadLetters: false });
    const result = await burst(topic, 5_000, 1_500, async () => {
      // Our private broker only: the pid comes from this test's data directory.
      const pid = brokerPid();
      process.kill(pid, 'SIGKILL');
      // The signal is asynchronous: wait until the process is gone, or start() finds it "serving".
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
      await kafkaSh('start');
    });
    expect(result.failed).toBe(0);
    expect(result.ackedAfterDisruption).toBeLessThan(5_000);

    const messages = await readWholeTopic(kafka, admin, topic);
    expect(messages).toHaveLength(5_000);
    expect(new Set(messages.map((m) => m.headers.eventId)).size).toBe(5_000);
  });
});
