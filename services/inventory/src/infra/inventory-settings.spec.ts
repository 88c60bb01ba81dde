import { describe, expect, it } from 'vitest';
import { inventorySettingsFromEnv } from './inventory-settings';

describe('inventory settings', () => {
  it('prefixes the default consumer group with the topic prefix, so prefixed runs never join each other', () => {
    expect(inventorySettingsFromEnv({}).consumerGroup).toBe('inventory');
    expect(inventorySettingsFromEnv({ KAFKA_TOPIC_PREFIX: 't1a2b3c4.' }).consumerGroup).toBe('t1a2b3c4.inventory');
  });

  it('takes INVENTORY_CONSUMER_GROUP as given', () => {
    expect(inventorySettingsFromEnv({ KAFKA_TOPIC_PREFIX: 'x.', INVENTORY_CONSUMER_GROUP: 'inv-2' }).consumerGroup).toBe('inv-2');
  });

  it('refuses a malformed number naming the variable', () => {
    expect(() => inventorySettingsFromEnv({ INVENTORY_BATCH_MAX: 'lots' })).toThrow(/INVENTORY_BATCH_MAX/);
  });
});
