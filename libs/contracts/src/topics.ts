/**
 * Every Kafka topic name in one place: `<context>.<kind>.v<major>`.
 * Keys: the order id, unless noted.
 */
export const Topics = {
  /** Order lifecycle integration events (key: orderId). */
  orderEvents: 'orders.events.v1',
  /**
   * Inventory's reservation outcomes (key: orderId) and StockWentNegative (key: the shipped order).
   * Before ADR 0023 it also carried the stock facts keyed by SKU; those older ones stay here.
   */
  inventoryEvents: 'inventory.events.v1',
  /**
   * Inventory's stock facts (key: sku): StockReceived, StockAdjusted, StockLevelChanged,
   * AvailableToPromiseChanged, LowStockAlerted. On their own topic (ADR 0023) so that the consumers
   * of reservation outcomes (most of them) are not sent two or more stock facts per order.
   */
  inventoryStock: 'inventory.stock.v1',
  /** Commands to inventory: reserve / release / commit (key: orderId). */
  inventoryCommands: 'inventory.commands.v1',
  approvalEvents: 'approval.events.v1',
  /** Commands to approval: request an approval chain (key: orderId). */
  approvalCommands: 'approval.commands.v1',
  /**
   * Commands to order-intake, PRIVATE to it (key: orderId): only approval writes, only order-intake
   * reads. They may carry clear personal data (a change's new address), so no other consumer may
   * subscribe and it is not an event topic (broker's default retention, never replayed).
   */
  orderCommands: 'orders.commands.v1',
  fulfillmentEvents: 'fulfillment.events.v1',
  /** Commands to fulfillment: start / stop fulfilment of an order (key: orderId). */
  fulfillmentCommands: 'fulfillment.commands.v1',
  notificationEvents: 'notification.events.v1',
  /** Tracking's SLA alerts: an order turned yellow / red or became stuck (key: orderId). */
  trackingEvents: 'tracking.events.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** Dead-letter topic for a consumer group reading a topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Topics that carry integration events: the durable history every read model is rebuilt from. */
export const EVENT_TOPICS: readonly string[] = [
  Topics.orderEvents,
  Topics.inventoryEvents,
  Topics.inventoryStock,
  Topics.approvalEvents,
  Topics.fulfillmentEvents,
  Topics.notificationEvents,
  Topics.trackingEvents,
];

/**
 * Broker settings a topic is created with (logical name, without any test prefix).
 * Event topics keep everything (no time or size retention): tracking rebuilds its read models by
 * replaying them from offset 0 (docs/adr/0006). Command and dead-letter topics keep the broker's
 * default retention.
 */
export function topicConfig(topic: string): Record<string, string> {
  return EVENT_TOPICS.includes(topic) ? { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' } : {};
}
