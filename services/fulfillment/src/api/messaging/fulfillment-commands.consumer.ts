import type { EventEnvelope, FulfillmentCommandDataMap } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import type { PgTransaction } from '@flowline/messaging';
import type { FulfillmentHandler } from '../../application/fulfillment.handler';
import type { FulfillmentState } from '../../domain/order-fulfillment.decider';
import type { MergeHandler } from '../../application/merge.handler';
import type { CarrierChoice, CarrierChoiceInput } from '../../domain/carrier-rules';
import { MergeErrorCode } from '../../domain/merge-parcel.decider';
import { withWeights, type SkuWeights } from '../../domain/parcel-weights';

/** The command types this consumer acts on: anything else is acknowledged without a transaction (runConsumer `accept`). */
export const FULFILLMENT_COMMAND_TYPES: ReadonlySet<string> = new Set(['StartFulfillment', 'StopFulfillment', 'HoldFulfillment', 'ResumeFulfillment']);

/** Parcel stages in which an order can still leave its merged parcel (not packed yet). */
const BEFORE_PACKING = ['awaiting_production', 'created', 'picking'];

/**
 * fulfillment.commands.v1 -> the order's fulfilment: StartFulfillment, StopFulfillment, HoldFulfillment
 * and ResumeFulfillment become decider commands in the consumer's transaction (with its inbox row). No rule lives here: the
 * line weights come from the order or the SKU weights, the carrier from the carrier rules, the
 * merge (合单) from the order's merge group, decided in the same transaction (ADR 0013).
 */
export function fulfillmentCommandHandler(
  handler: FulfillmentHandler,
  chooseCarrier: (input: CarrierChoiceInput) => CarrierChoice,
  madeToOrderSkuPrefixes: readonly string[] = [],
  options: { merges?: MergeHandler; weights?: SkuWeights } = {},
) {
  return async (envelope: EventEnvelope, tx: PgTransaction): Promise<void> => {
    const meta = { commandId: envelope.eventId, correlationId: envelope.correlationId, causationId: envelope.eventId, ...(envelope.actor ? { actor: envelope.actor } : {}) };
    switch (envelope.type) {
      case 'StartFulfillment': {
        const given = envelope.data as FulfillmentCommandDataMap['StartFulfillment'];
        const data = options.weights ? { ...given, lines: withWeights(given.lines, options.weights) } : given;
        const weightGrams = data.lines.reduce((n, l) => n + (l.weightGrams ?? 0), 0);
        const carrierInput: CarrierChoiceInput = {
          ...(data.destination?.province ? { province: data.destination.province } : {}),
          ...(data.channel ? { channel: data.channel } : {}),
          ...(data.grandTotal !== undefined ? { grandTotal: data.grandTotal } : {}),
          ...(data.designatedCarrier ? { designatedCarrier: data.designatedCarrier } : {}),
          weightGrams,
        };
        const madeToOrderSkus = data.lines.map((l) => l.sku).filter((sku) => madeToOrderSkuPrefixes.some((p) => sku.startsWith(p)));
        // The order's stream is read once: the merge offer and the decider use the same state (a
        // merge-group append in between does not touch the order's stream).
        const loaded = await handler.load(data.orderId, tx.client);
        const merge = options.merges ? await options.merges.offer(tx.client, data, loaded.state, madeToOrderSkus.length > 0, envelope.occurredAt, meta) : undefined;
        await handler.execute(
          data.orderId,
          {
            type: 'StartFulfillment',
            data,
            at: envelope.occurredAt,
            carrierChoice: chooseCarrier(carrierInput),
            carrierInput,
            madeToOrderSkus,
            ...(merge ? { merge } : {}),
          },
          meta,
          tx.client,
          loaded,
        );
        return;
      }
      case 'StopFulfillment': {
        const data = envelope.data as FulfillmentCommandDataMap['StopFulfillment'];
        const loaded = options.merges ? await leaveMergedParcels(handler, options.merges, data, envelope.occurredAt, meta, tx) : undefined;
        await handler.execute(data.orderId, { type: 'StopFulfillment', data, at: envelope.occurredAt }, meta, tx.client, loaded);
        return;
      }
      case 'HoldFulfillment':
      case 'ResumeFulfillment': {
        const data = envelope.data as FulfillmentCommandDataMap['HoldFulfillment'];
        await handler.execute(data.orderId, { type: envelope.type, data, at: envelope.occurredAt }, meta, tx.client);
        return;
      }
      default:
        return;
    }
  };
}

/**
 * A refund or cancel of an order in a merged parcel not packed yet takes only its lines out (the
 * last one out empties the parcel). The parcel's lock first, then the order's state again: a pack
 * that committed meanwhile sends the stop to the intercept path instead. Answers the order's state
 * as last read, for the stop to be decided on without a further read.
 */
async function leaveMergedParcels(
  handler: FulfillmentHandler,
  merges: MergeHandler,
  data: FulfillmentCommandDataMap['StopFulfillment'],
  at: string,
  meta: { commandId: string; correlationId: string; causationId: string | null },
  tx: PgTransaction,
): Promise<{ state: FulfillmentState; revision: number }> {
  const first = await handler.load(data.orderId, tx.client);
  if (first.state.status !== 'open') return first;
  const parcelIds = [...new Set(first.state.shipments.map((x) => x.mergeParcelId).filter((x): x is string => !!x))];
  let last = first;
  for (const parcelId of parcelIds) {
    await merges.lock(tx.client, parcelId);
    last = await handler.load(data.orderId, tx.client);
    const { state } = last;
    if (state.status !== 'open' || state.stop) continue;
    const sh = state.shipments.find((x) => x.mergeParcelId === parcelId);
    if (!sh || !BEFORE_PACKING.includes(sh.status)) continue;
    const row = await merges.row(tx.client, parcelId);
    try {
      await merges.execute(tx.client, row.group_key, { type: 'RemoveMergedOrder', orderId: data.orderId, reason: data.reason, at }, meta);
    } catch (e) {
      if (e instanceof DomainError && (e.code === MergeErrorCode.ParcelPacked || e.code === MergeErrorCode.OrderNotInParcel)) continue;
      throw e;
    }
  }
  // The order's state as read after the last lock (taking an order out touches only the group's stream).
  return last;
}
