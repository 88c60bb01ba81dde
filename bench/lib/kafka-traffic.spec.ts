import { describe, expect, it } from 'vitest';
import { trafficPerOrder, type KafkaTraffic } from './kafka-traffic';

describe('Kafka traffic per order', () => {
  it('counts messages per topic and deliveries per group over a phase, without the prefix', () => {
    const before: KafkaTraffic = {
      topics: { 'b1_orders.events.v1': 1_000, 'b1_inventory.events.v1': 500, 'b1_idle.v1': 7 },
      groups: { 'b1_tracking': { 'b1_orders.events.v1': 990, 'b1_inventory.events.v1': 500 }, 'b1_analytics': { 'b1_orders.events.v1': 1_000 } },
    };
    const after: KafkaTraffic = {
      topics: { 'b1_orders.events.v1': 1_500, 'b1_inventory.events.v1': 700, 'b1_idle.v1': 7 },
      groups: {
        'b1_tracking': { 'b1_orders.events.v1': 1_500, 'b1_inventory.events.v1': 700 },
        'b1_analytics': { 'b1_orders.events.v1': 1_480 },
        // A group that joined during the phase counts from the topic's end before it.
        'b1_new': { 'b1_inventory.events.v1': 650 },
      },
    };
    const t = trafficPerOrder(before, after, 100, 'b1_');
    expect(t.messages).toEqual({ 'orders.events.v1': 5, 'inventory.events.v1': 2 });
    expect(t.messagesTotal).toBe(7);
    expect(t.deliveries).toEqual({ tracking: 7.1, analytics: 4.8, new: 1.5 });
    expect(t.deliveriesTotal).toBe(13.4);
  });

  it('is zero for a phase without orders', () => {
    const s: KafkaTraffic = { topics: { a: 1 }, groups: {} };
    expect(trafficPerOrder(s, { topics: { a: 5 }, groups: {} }, 0)).toEqual({ messagesTotal: 0, messages: { a: 0 }, deliveriesTotal: 0, deliveries: {} });
  });
});
