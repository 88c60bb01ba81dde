import { Topics } from '@flowline/contracts';
import { kafkaBrokers, testTopicPrefix } from '@flowline/testing';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from './topics';

describe('ensureTopics', () => {
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, clientId: 'topics-int-spec' });
  const admin = kafka.admin();
  const prefix = testTopicPrefix();
  const retentionOf = async (topic: string) => {
    const r = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
    });
    return r.resources[0].configEntries.find((c) => c.configName === 'retention.ms')?.configValue;
  };

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });

  it('creates event topics that keep everything (read models are rebuilt from them) and command topics with the broker default', async () => {
    const r = await ensureTopics(admin, [Topics.orderEvents, Topics.inventoryCommands], { partitions: 3, prefix });
    expect(r.created).toEqual(expect.arrayContaining([`${prefix}${Topics.orderEvents}`, `${prefix}${Topics.inventoryCommands}`]));
    expect(await retentionOf(`${prefix}${Topics.orderEvents}`)).toBe('-1');
    expect(await retentionOf(`${prefix}${Topics.inventoryCommands}`)).not.toBe('-1');
    expect(await retentionOf(`${prefix}${Topics.orderEvents}.dlq`)).not.toBe('-1');
  });

  it('is idempotent: a second call creates nothing and reports the topics as existing', async () => {
    const r = await ensureTopics(admin, [Topics.orderEvents], { partitions: 3, prefix });
    expect(r.created).toEqual([]);
    expect(r.mismatched).toEqual([]);
  });
});
