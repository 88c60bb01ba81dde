import { ulidFactory } from '@flowline/platform';
import type { Actor, CommandMetadata, OrderSubmission, PiiField } from '@flowline/contracts';
import type { OrderCommand } from '../domain/order.commands';
import { WrongExpectedVersion, type SqlClient } from '@flowline/eventstore';
import { OrderErrors } from '../domain/order.errors';
import { concurrentModification, type ChangeOrderHandler, type OrderScope } from '../application/change-order.handler';
import { inOperation } from '../application/operation-scope';
import { ChannelOrderTaken, type LoadedOrder } from '../application/order-store.port';
import { requestHash, type IdempotencyStore, type Prefetch, type StoredResponse } from '../application/idempotency';
import type { OrderQueries, OrderPage } from '../application/order-queries';
import { toOrderView, type OrderView } from '../application/order-view';
import type { PaymentAtPlacement, PlaceOrderHandler } from '../application/place-order.handler';
import type { ReleaseOrderHandler } from '../application/release-order.handler';
import { RevealPiiHandler, type RevealedPii } from '../application/reveal-pii.handler';

/** What a transport (REST, gRPC) knows about a request beyond its body. */
export interface RequestContext {
  transport: 'rest' | 'grpc';
  /** Idempotency-Key header / meta.request_id. */
  idempotencyKey?: string;
  /** If-Match / expected_version. */
  ifMatch?: number;
  correlationId?: string;
  actor?: Actor;
  /**
   * The caller's data scope (shops, a customer's orders), checked by the command on the order it
   * loads, in its own transaction: out of scope = ORDER_NOT_FOUND and nothing written. Absent = all.
   */
  scope?: OrderScope;
}

export interface ApiResult {
  /** 201 created, 200 otherwise (also for an existing channel order). */
  status: number;
  order: OrderView;
  /** The response was stored under the idempotency key and is returned again. */
  replayed: boolean;
}

/** A request's work inside the Idempotency-Key's transaction (`tx`), with the order read in its first round trip (`loaded`). */
type RequestRun = (metadata: CommandMetadata, tx: SqlClient | undefined, attempt: number, loaded?: LoadedOrder) => Promise<StoredResponse & { body: OrderView }>;

/** Runs of one request whose transaction lost a race before it answers ORDER_CONCURRENT_MODIFICATION. */
const MAX_REQUEST_ATTEMPTS = 5;

/** What a change to an existing order runs with: If-Match, the request's transaction, the order read in its key's round trip, the caller's scope. */
function changeOptions(ctx: RequestContext, tx: SqlClient | undefined, loaded: LoadedOrder | undefined) {
  return {
    ...(ctx.ifMatch !== undefined ? { expectedRevision: ctx.ifMatch } : {}),
    ...(tx ? { tx } : {}),
    ...(loaded ? { loaded } : {}),
    ...(ctx.scope ? { scope: ctx.scope } : {}),
  };
}

/** Commands a client may send to an existing order through the API. */
export type ClientCommand = Extract<
  OrderCommand,
  { type: 'ConfirmPayment' | 'Cancel' | 'RequestRefund' | 'RecordRefunded' | 'PlaceHold' | 'ReleaseHold' | 'ResolveException' }
>;
type ClientCommandData<T extends ClientCommand['type']> = Omit<Extract<ClientCommand, { type: T }>['data'], 'orderId'>;

/**
 * The use cases behind both transports: makes ids and metadata at the edge (ULID order ids, the
 * idempotency key as command id, the clock), runs requests once per idempotency key, and returns
 * the masked order view. REST and gRPC only translate to and from it.
 */
export class OrderApi {
  private readonly nextId = ulidFactory();
  private readonly reveals: RevealPiiHandler;

  constructor(
    private readonly placeHandler: PlaceOrderHandler,
    private readonly changeHandler: ChangeOrderHandler,
    private readonly releaseHandler: ReleaseOrderHandler,
    private readonly queries: OrderQueries,
    private readonly idempotency: IdempotencyStore,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.reveals = new RevealPiiHandler(queries.store);
  }

  /**
   * Audited PII reveal: the unmasked fields, recorded as OrderPiiRevealed with the actor, in one
   * commit. No Idempotency-Key row: the answer holds the values in clear and is never stored.
   */
  revealPii(orderId: string, fields: PiiField[], reason: string, ctx: RequestContext): Promise<RevealedPii> {
    return inOperation('RevealPii', () => {
      const now = this.clock().toISOString();
      const commandId = `req-${this.nextId(this.clock().getTime())}`;
      const metadata: CommandMetadata = { commandId, correlationId: ctx.correlationId ?? commandId, causationId: null, now, ...(ctx.actor ? { actor: ctx.actor } : {}) };
      return this.reveals.execute({ orderId, fields, reason, metadata, ...(ctx.scope ? { scope: ctx.scope } : {}) });
    });
  }

  /** `payment`: confirmed in the same commit when this request creates the order (PlaceOrderHandler's decidePlacement). */
  async placeOrder(submission: OrderSubmission, clientGrandTotal: number | undefined, ctx: RequestContext, rawRequest: unknown, payment?: PaymentAtPlacement): Promise<ApiResult> {
    return this.once(ctx, 'PlaceOrder', rawRequest, async (metadata, tx, attempt) => {
      const orderId = this.nextId(this.clock().getTime());
      const result = await this.placeHandler.execute(
        {
          type: 'PlaceOrder',
          data: { orderId, order: submission, ...(clientGrandTotal !== undefined ? { clientGrandTotal } : {}) },
          metadata,
        },
        tx,
        // The first run claims the channel order with its COMMIT; a run after a lost claim claims first and finds the winner.
        { claimFirst: attempt > 1, ...(payment ? { payment } : {}) },
      );
      return { status: result.created ? 201 : 200, body: toOrderView(result.state, result.revision, metadata.now) };
    });
  }

  async change<T extends ClientCommand['type']>(orderId: string, type: T, data: ClientCommandData<T>, ctx: RequestContext, rawRequest: unknown): Promise<ApiResult> {
    return this.once(
      ctx,
      `${type}:${orderId}`,
      rawRequest,
      async (metadata, tx, _attempt, loaded) => {
        const command = { type, data: { ...data, orderId }, metadata } as unknown as ClientCommand;
        const result = await this.changeHandler.execute(command, changeOptions(ctx, tx, loaded));
        return { status: 200, body: toOrderView(result.state, result.revision, metadata.now) };
      },
      this.queries.store.loadPrefetch?.(orderId),
    );
  }

  /** Manual release to the warehouse after the rule audit (审单). */
  async release(orderId: string, ctx: RequestContext, rawRequest: unknown): Promise<ApiResult> {
    return this.once(
      ctx,
      `ReleaseToFulfillment:${orderId}`,
      rawRequest,
      async (metadata, tx, _attempt, loaded) => {
        const result = await this.releaseHandler.execute(orderId, metadata, changeOptions(ctx, tx, loaded));
        return { status: 200, body: toOrderView(result.state, result.revision, metadata.now) };
      },
      this.queries.store.loadPrefetch?.(orderId),
    );
  }

  get(orderId: string): Promise<OrderView> {
    return this.queries.get(orderId);
  }

  list(query: Parameters<OrderQueries['list']>[0]): Promise<OrderPage> {
    return this.queries.list(query);
  }

  /**
   * One request, counted as its command (`PlaceOrder`, `ConfirmPayment`...: flowline_db_operation_queries_total's operation).
   * `prefetch`: the order the command loads, read in the Idempotency-Key's round trip (`run` gets it as `loaded`).
   */
  private once(ctx: RequestContext, operation: string, rawRequest: unknown, run: RequestRun, prefetch?: Prefetch<LoadedOrder>): Promise<ApiResult> {
    return inOperation(operation.split(':')[0], () => this.onceIn(ctx, operation, rawRequest, run, prefetch));
  }

  private async onceIn(ctx: RequestContext, operation: string, rawRequest: unknown, run: RequestRun, prefetch: Prefetch<LoadedOrder> | undefined): Promise<ApiResult> {
    const now = this.clock().toISOString();
    // Scoped by operation like the idempotency record: the order treats a command id it has seen
    // as a replay, so one key reused for another command (place, then pay) must not look like one.
    const commandId = ctx.idempotencyKey ? `${operation}:${ctx.idempotencyKey}` : `req-${this.nextId(this.clock().getTime())}`;
    const metadata: CommandMetadata = {
      commandId,
      correlationId: ctx.correlationId ?? ctx.idempotencyKey ?? commandId,
      causationId: null,
      now,
      ...(ctx.actor ? { actor: ctx.actor } : {}),
    };
    if (!ctx.idempotencyKey) {
      const r = await run(metadata, undefined, 1);
      return { status: r.status, order: r.body, replayed: false };
    }
    const key = ctx.idempotencyKey;
    const hash = requestHash({ request: rawRequest, ifMatch: ctx.ifMatch ?? null });
    // The key's row, the order change and its outbox commit in one transaction (the store hands
    // `run` its transaction). A race lost inside it (another writer took the revision, or the
    // channel order) rolls everything back: the whole request runs again on the order as it now
    // is, a few times, like the handler's own retry outside a transaction.
    for (let attempt = 1; ; attempt++) {
      try {
        const { response, replayed } = await this.idempotency.once(`${ctx.transport}:${operation}`, key, hash, (tx, loaded) => run(metadata, tx, attempt, loaded), prefetch);
        // A stored answer is the order as it was: the same scope rule holds for it (no stream read).
        const order = response.body as OrderView;
        if (replayed && ctx.scope && !ctx.scope({ orderId: order.orderId, shopId: order.shopId })) throw OrderErrors.notFound(order.orderId);
        return { status: response.status, order: response.body as OrderView, replayed };
      } catch (error) {
        const lostRace = error instanceof WrongExpectedVersion || error instanceof ChannelOrderTaken;
        if (!lostRace) throw error;
        if (attempt >= MAX_REQUEST_ATTEMPTS) throw concurrentModification(operation.split(':')[1] ?? '', operation.split(':')[0]);
      }
    }
  }
}
