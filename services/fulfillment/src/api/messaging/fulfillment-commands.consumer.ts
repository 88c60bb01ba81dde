import type { EventEnvelope, FulfillmentCommandDataMap } from '@flowline/contracts';
import type { PgTransaction } from '@flowline/messaging';
import type { FulfillmentHandler } from '../../application/fulfillment.handler';
import type { CarrierChoice } from '../../domain/carrier-rules';

/**
 * fulfillment.commands.v1 -> the order's fulfilment: StartFulfillment and StopFulfillment become
 * decider commands in the consumer's transaction (with its inbox row). No rule lives here.
 */
export function fulfillmentCommandHandler(
  handler: FulfillmentHandler,
  chooseCarrier: (data: FulfillmentCommandDataMap['StartFulfillment']) => CarrierChoice,
  madeToOrderSkuPrefixes: readonly string[] = [],
) {
  return async (envelope: EventEnvelope, tx: PgTransaction): Promise<void> => {
    const meta = { commandId: envelope.eventId, correlationId: envelope.correlationId, causationId: envelope.eventId, ...(envelope.actor ? { actor: envelope.actor } : {}) };
    switch (envelope.type) {
      case 'StartFulfillment': {
        const data = envelope.data as FulfillmentCommandDataMap['StartFulfillment'];
        await handler.execute(data.orderId, {
            type: 'StartFulfillment',
            data,
            at: envelope.occurredAt,
            carrierChoice: chooseCarrier(data),
            madeToOrderSkus: data.lines.map((l) => l.sku).filter((sku) => madeToOrderSkuPrefixes.some((p) => sku.startsWith(p))),
          }, meta, tx.client);
        return;
      }
      case 'StopFulfillment': {
        const data = envelope.data as FulfillmentCommandDataMap['StopFulfillment'];
        await handler.execute(data.orderId, { type: 'StopFulfillment', data, at: envelope.occurredAt }, meta, tx.client);
        return;
      }
      default:
        return;
    }
  };
}
