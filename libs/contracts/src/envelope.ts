/**
 * Who caused an event: a person (with their role), a service, or a channel connector.
 * Carried on every envelope so the timeline can say "who".
 */
export interface Actor {
  /** 'user' for a person, 'service' for automation, 'customer' for a buyer, 'channel' for a platform feed. */
  kind: 'user' | 'service' | 'customer' | 'channel';
  /** Stable id of the actor (user id, service name, channel code). */
  id: string;
  /** Role from DOMAIN.md (customer_service, warehouse, finance, sales, designer, cost_accountant, general_manager, customer, system). */
  role?: string;
  /** Display name, for timelines. */
  name?: string;
  /** OAuth client the verified token was issued to (audit: subject + client, issue #16). */
  clientId?: string;
}

/**
 * The envelope every stored and published event travels in.
 * Times are ISO-8601 strings; positions are decimal strings when they may exceed 2^53.
 */
export interface EventEnvelope<TData = unknown, TType extends string = string> {
  /** Globally unique id (ULID/UUID); the idempotency key for appends and consumers. */
  eventId: string;
  /** Past-tense event name, e.g. `OrderPlaced`. */
  type: TType;
  /** Schema version of `data`; upcasters lift old versions to the current one. */
  schemaVersion: number;
  /** Stream the event belongs to, e.g. `order-01J...`. */
  streamId: string;
  /** 0-based revision of the event within its stream. */
  streamPosition: number;
  /** ISO-8601 time the event occurred (taken from the command's metadata, not a clock in the domain). */
  occurredAt: string;
  /** Id shared by everything caused by one original request. */
  correlationId: string;
  /** Id of the command or event that directly caused this one (null for an origin). */
  causationId: string | null;
  /** Who caused it. */
  actor?: Actor;
  /** The event payload: plain JSON, no Date objects, money in integer minor units. */
  data: TData;
}

/** Metadata every command carries in: time, ids and the actor come from the edge, never from the domain. */
export interface CommandMetadata {
  /** Idempotency key of the command (request id). */
  commandId: string;
  correlationId: string;
  causationId?: string | null;
  /** ISO-8601 "now" as seen by the edge that accepted the command. */
  now: string;
  actor?: Actor;
}

/** An integer amount of minor units (fen for CNY) with its currency. */
export interface Money {
  /** Integer minor units, e.g. 1999 = ¥19.99. */
  amount: number;
  /** ISO-4217 code, CNY by default. */
  currency: string;
}
