import { PII_FIELDS, type CommandMetadata, type PiiField } from '@flowline/contracts';
import { WrongExpectedVersion, type NewEvent, type SqlClient } from '@flowline/eventstore';
import { OrderErrors } from '../domain/order.errors';
import { orderStreamId, type OrderEventOf } from '../domain/order.events';
import { isExisting, type ExistingOrder } from '../domain/order.state';
import { assertInScope, concurrentModification, type OrderScope } from './change-order.handler';
import { eventIdFor } from './ids';
import type { OrderStore } from './order-store.port';

/** The unmasked values a reveal returns, per field asked for (absent: the order has none). */
export interface RevealedPii {
  orderId: string;
  fields: PiiField[];
  customer: { name?: string; phone?: string };
  shippingAddress: { recipient?: string; phone?: string; street?: string; detail?: string };
  /** The order's revision after the reveal was recorded (the reveal is an event on its stream). */
  revision: number;
  revealedAt: string;
}

export interface RevealPiiRequest {
  orderId: string;
  /** Empty: every PII field. */
  fields: PiiField[];
  reason: string;
  metadata: CommandMetadata;
  scope?: OrderScope;
}

const MAX_ATTEMPTS = 5;

function valuesOf(s: ExistingOrder, fields: PiiField[]): Pick<RevealedPii, 'customer' | 'shippingAddress'> {
  const c = s.order.customer;
  const a = s.order.shippingAddress;
  const has = (f: PiiField) => fields.includes(f);
  return {
    customer: { ...(has('customer.name') && c.name ? { name: c.name } : {}), ...(has('customer.phone') && c.phone ? { phone: c.phone } : {}) },
    shippingAddress: {
      ...(has('shippingAddress.recipient') ? { recipient: a.recipient } : {}),
      ...(has('shippingAddress.phone') ? { phone: a.phone } : {}),
      ...(has('shippingAddress.street') ? { street: a.street, ...(a.detail ? { detail: a.detail } : {}) } : {}),
    },
  };
}

/**
 * Audited PII reveal (issues #16, #17): a person with the `reveal Order` ability sees the order's
 * personal fields unmasked, and the order's stream records OrderPiiRevealed (who = the metadata's
 * actor from the verified token, when, which fields, why) in the same step: no reveal without its
 * audit fact. Not a decision of the order (it changes no state, so the decider is not asked); the
 * scope is checked on the order as loaded, like every command. The answer is never stored (no
 * Idempotency-Key row: it would put the values in clear in another table); a retry is another reveal.
 */
export class RevealPiiHandler {
  constructor(private readonly store: OrderStore) {}

  async execute(request: RevealPiiRequest, tx?: SqlClient): Promise<RevealedPii> {
    const { orderId, metadata } = request;
    const fields = request.fields.length > 0 ? PII_FIELDS.filter((f) => request.fields.includes(f)) : [...PII_FIELDS];
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.store.load(orderId, tx);
      const { state, revision } = loaded;
      if (!isExisting(state) || revision === 'no_stream') throw OrderErrors.notFound(orderId);
      assertInScope(state, request.scope);
      const event: OrderEventOf<'OrderPiiRevealed'> = { type: 'OrderPiiRevealed', data: { orderId, fields, reason: request.reason, revealedAt: metadata.now } };
      const recorded: NewEvent = {
        eventId: eventIdFor(orderStreamId(orderId), metadata.commandId, 0),
        type: event.type,
        data: event.data,
        metadata: { correlationId: metadata.correlationId, causationId: metadata.commandId, occurredAt: metadata.now, ...(metadata.actor ? { actor: metadata.actor } : {}) },
      };
      try {
        const result = await this.store.commit({ orderId, events: [recorded], expectedRevision: revision, stateAfter: state }, tx);
        return { orderId, fields, ...valuesOf(state, fields), revision: result.revision, revealedAt: metadata.now };
      } catch (error) {
        // Another writer appended first: the reveal does not depend on the state, so it is simply
        // recorded again after that writer (outside a caller's transaction; inside, the caller retries).
        if (!(error instanceof WrongExpectedVersion) || tx) throw error;
        if (attempt >= MAX_ATTEMPTS) throw concurrentModification(orderId, 'RevealPii');
      }
    }
  }
}
