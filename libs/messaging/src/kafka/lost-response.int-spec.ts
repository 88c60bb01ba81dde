import { connect, type Socket } from 'node:net';
import { kafkaBrokers, testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { Kafka, logLevel, Partitioners, type Admin, type ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic, testEnvelope } from '../testing/fixtures';
import { EventPublisher } from './publisher';
import { ensureTopics } from './topics';

/*
 * The failure a broker restart rarely produces on its own: the broker wrote a batch, but its
 * acknowledgement never reached the client (connection cut after the write). The client must
 * re-send; only the idempotent producer keeps that re-send from becoming a duplicate. The fault is
 * injected in the client's socket: after every Nth Produce request, the next bytes from the broker
 * (that request's response) are dropped and the connection is destroyed.
 */

const PRODUCE = 0;

function lossySockets(everyNthProduce: number, maxLosses: number): { factory: ISocketFactory; losses: () => number } {
  let produces = 0;
  let losses = 0;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket: Socket = connect({ host, port }, onConnect);
    let dropNextResponse = false;
    const write = socket.write.bind(socket) as (chunk: Buffer, encoding?: BufferEncoding) => boolean;
    socket.write = ((chunk: Buffer, encoding?: BufferEncoding) => {
      // kafkajs writes one whole request per call: int32 size, then int16 api key.
      if (Buffer.isBuffer(chunk) && chunk.length > 6 && chunk.readInt16BE(4) === PRODUCE) {
        produces++;
        if (produces % everyNthProduce === 0 && losses < maxLosses) dropNextResponse = true;
      }
      return write(chunk, encoding);
    }) as typeof socket.write;
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && dropNextResponse) {
        dropNextResponse = false;
        losses++;
        socket.destroy(new Error('injected fault: produce response lost'));
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
    return socket;
  };
  return { factory, losses: () => losses };
}

const prefix = testTopicPrefix();
let admin: Admin;
let plainKafka: Kafka;

beforeAll(async () => {
  plainKafka = new Kafka({ clientId: 'lost-response-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = plainKafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(prefix)) }).catch(() => undefined);
  await admin?.disconnect();
});

const TOTAL = 2_000;

async function countOnTopic(topic: string): Promise<{ messages: number; unique: number }> {
  const messages = await readWholeTopic(plainKafka, admin, topic);
  return { messages: messages.length, unique: new Set(messages.map((m) => m.headers.eventId)).size };
}

describe('lost produce acknowledgements', () => {
  it('re-sends a batch whose acknowledgement was lost without writing it twice (idempotent publisher)', async () => {
    const topic = `lost-${uniqueSuffix()}.events.v1`;
    await ensureTopics(admin, [topic], { partitions: 12, prefix, deadLetters: false });
    const lossy = lossySockets(7, 5);
    const kafka = new Kafka({ clientId: 'lossy', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, socketFactory: lossy.factory });
    const publisher = new EventPublisher({ kafka, topicPrefix: prefix, maxBatchSize: 50, logger: { info() {}, warn() {}, error() {} } });
    await publisher.connect();
    await Promise.all(Array.from({ length: TOTAL }, (_, i) => publisher.publish([{ topic, key: `o${i % 31}`, envelope: testEnvelope(`o${i % 31}`, i) }])));
    await publisher.disconnect();

    expect(lossy.losses()).toBe(5);
    expect(await countOnTopic(`${prefix}${topic}`)).toEqual({ messages: TOTAL, unique: TOTAL });
  });

  it('control: the same fault duplicates messages when the producer is not idempotent', async () => {
    const topic = `${prefix}control-${uniqueSuffix()}.events.v1`;
    await ensureTopics(admin, [topic], { partitions: 12, deadLetters: false });
    const lossy = lossySockets(7, 5);
    const kafka = new Kafka({ clientId: 'lossy-plain', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, socketFactory: lossy.factory });
    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 20, initialRetryTime: 50 } });
    await producer.connect();
    for (let i = 0; i < TOTAL; i += 50) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 50 }, (_, j) => ({ key: `o${(i + j) % 31}`, value: 'x', headers: { eventId: String(i + j) } })),
      });
    }
    await producer.disconnect();

    expect(lossy.losses()).toBe(5);
    const counted = await countOnTopic(topic);
    expect(counted.unique).toBe(TOTAL);
    expect(counted.messages).toBeGreaterThan(TOTAL);
  });
});
