import type { PoolClient } from 'pg';
import { DomainError, isDomainError } from '@flowline/domain';
import { idempotencyKeyReused, requestHash } from '@flowline/platform';
import { OutOfOrderAppend, WrongExpectedVersion, type NewEvent, type PostgresEventStore, type StreamAppend } from '@flowline/eventstore';
import {
  orderReservationDecider,
  reservationStreamId,
  type OrderReservationEvent,
  type OrderReservationState,
} from '../domain/order-reservation.decider';
import { commitOrder, expireOrder, releaseOrder, releaseOrderLines, reserveOrder, type LedgerAccess, type ProcessResult } from '../domain/policies/order-reservation.process';
import { skuNotifications } from '../domain/policies/stock-level.policy';
import type { WarehouseAllocationStrategy, WarehouseRef } from '../domain/policies/warehouse-allocation.policy';
import {
  DEFAULT_STOCK_POLICY,
  ledgerKey,
  ledgerStreamId,
  levelsOf,
  MAX_ON_HAND,
  stockLedgerDecider,
  type OpenReservationLine,
  type StockLedgerEvent,
  type StockLedgerState,
  type StockLevels,
  type StockPolicy,
} from '../domain/stock-ledger.decider';
import { addLine, getLine, NO_LINES } from '../domain/open-lines';
import { StaleSnapshot, type LineRow, type PgInventoryStore, type ReservationRow, type SkuRow, type StockRow, type WarehouseRow, type WriteSet } from '../infra/pg-inventory-store';
import type { CommandMeta, CommandOutcome, CommandResult, InventoryCommand } from './inventory-commands';

/** Stream of the per-SKU availability announcements (ATP per channel, low-stock alerts). */
export function availabilityStreamId(sku: string): string {
  return `availability-${sku}`;
}

export interface StockUnitOfWorkOptions {
  store: PgInventoryStore;
  /** The service's event store; every stream's events go through its `appendToStreamsWithin`. */
  events: Pick<PostgresEventStore, 'appendToStreamsWithin'>;
  strategy: WarehouseAllocationStrategy;
  /** Warehouse table, cached by the caller. */
  warehouses(): Promise<WarehouseRow[]>;
  /** New event ids (ULIDs). */
  newId(): string;
  /** Tries of one batch on a transient conflict (deadlock, log-order guard, lost insert race). Default 8. */
  maxAttempts?: number;
  /** Called after each committed transaction (metrics). */
  onCommitted?(commands: InventoryCommand[], results: CommandResult[], seconds: number): void;
  /** Called before each retry with its cause (metrics). */
  onRetry?(cause: string): void;
}

/** Errors that a fresh transaction resolves: retry the whole batch. */
export function isTransient(e: unknown): boolean {
  if (e instanceof OutOfOrderAppend || e instanceof WrongExpectedVersion || e instanceof StaleSnapshot || e instanceof LockSetGrew) return true;
  const code = (e as { code?: string } | null)?.code;
  return code === '40001' || code === '40P01' || code === '23505' || code === '55P03';
}

class LockSetGrew extends Error {
  constructor() {
    super('a reservation touches SKUs outside the locked set; retrying with the larger set');
  }
}

interface LedgerSlot {
  state: StockLedgerState;
  original?: StockRow;
  before: StockLevels;
  events: { event: StockLedgerEvent; meta: CommandMeta }[];
}

interface OrderSlot {
  state: OrderReservationState;
  original?: ReservationRow;
  events: { event: OrderReservationEvent; meta: CommandMeta }[];
  /** Imported reservations change the row without a stream event. */
  touched: boolean;
}

function orderStateOf(row: ReservationRow | undefined): OrderReservationState {
  if (!row) return orderReservationDecider.initialState();
  switch (row.status) {
    case 'reserved':
      return {
        status: 'reserved',
        reservationId: row.reservationId ?? '',
        channel: row.channel ?? '',
        allocations: row.allocations,
        ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
      };
    case 'refused':
      return { status: 'refused', missing: row.missing };
    case 'released':
      return { status: 'released', reservationId: row.reservationId ?? '', allocations: row.allocations, reason: row.releaseReason ?? '' };
    case 'committed':
      return { status: 'committed', reservationId: row.reservationId ?? '', allocations: row.allocations };
  }
}

function rowOf(orderId: string, s: OrderReservationState, version: number): ReservationRow {
  const base = { orderId, version, expiresAt: null, missing: [], releaseReason: null, channel: null, reservationId: null, allocations: [] };
  switch (s.status) {
    case 'reserved':
      return { ...base, status: 'reserved', reservationId: s.reservationId, channel: s.channel, allocations: s.allocations, expiresAt: s.expiresAt ?? null };
    case 'refused':
      return { ...base, status: 'refused', missing: s.missing };
    case 'released':
      return { ...base, status: 'released', reservationId: s.reservationId, allocations: s.allocations, releaseReason: s.reason };
    case 'committed':
      return { ...base, status: 'committed', reservationId: s.reservationId, allocations: s.allocations };
    case 'none':
      throw new Error(`order ${orderId}: no reservation state to store`);
  }
}

/** Everything one batch transaction sees and changes, in memory. The ledgers are its LedgerAccess. */
class BatchWorld implements LedgerAccess {
  readonly warehouses: WarehouseRef[];
  readonly ledgers = new Map<string, LedgerSlot>();
  readonly orders = new Map<string, OrderSlot>();
  /** The shop ReserveStock named per order, kept on a reservation row that has none yet. */
  readonly shops = new Map<string, string>();
  readonly skus: Map<string, SkuRow>;
  /** Last command that touched each SKU (metadata of the level/ATP events). */
  readonly skuMeta = new Map<string, CommandMeta>();
  readonly allWarehouses: Map<string, WarehouseRow>;

  constructor(warehouses: WarehouseRow[], skus: SkuRow[], stock: StockRow[], reservations: ReservationRow[], lines: LineRow[]) {
    this.allWarehouses = new Map(warehouses.map((w) => [w.warehouseId, w]));
    this.warehouses = warehouses.filter((w) => w.active).map((w) => ({ warehouseId: w.warehouseId, priority: w.priority }));
    this.skus = new Map(skus.map((s) => [s.sku, s]));
    for (const r of stock) {
      const state: StockLedgerState = { status: 'active', sku: r.sku, warehouseId: r.warehouseId, onHand: r.onHand, reserved: r.reserved, reservations: NO_LINES };
      this.ledgers.set(ledgerKey(r.sku, r.warehouseId), { state, original: r, before: levelsOf(state, this.policy(r.sku).safetyStock), events: [] });
    }
    for (const l of lines) {
      const slot = this.ledgers.get(ledgerKey(l.sku, l.warehouseId));
      if (!slot || slot.state.status !== 'active') continue;
      slot.state = {
        ...slot.state,
        reservations: addLine(slot.state.reservations, {
          orderId: l.orderId,
          reservationId: l.reservationId,
          lineId: l.lineId,
          quantity: l.quantity,
          ...(l.expiresAt ? { expiresAt: l.expiresAt } : {}),
        }),
      };
    }
    for (const r of reservations) this.orders.set(r.orderId, { state: orderStateOf(r), original: r, events: [], touched: false });
  }

  ledger(sku: string, warehouseId: string): StockLedgerState {
    return this.ledgers.get(ledgerKey(sku, warehouseId))?.state ?? stockLedgerDecider.initialState();
  }

  policy(sku: string): StockPolicy {
    const s = this.skus.get(sku);
    return s ? { safetyStock: s.safetyStock, allowBackorder: s.allowBackorder } : DEFAULT_STOCK_POLICY;
  }

  order(orderId: string): OrderReservationState {
    return this.orders.get(orderId)?.state ?? orderReservationDecider.initialState();
  }

  /**
   * Refuses ledger events that would take a SKU's units on hand, summed over its warehouses, past
   * MAX_ON_HAND (422 naming `field`): the SKU row keeps the total available in a 32-bit column, and
   * a receipt past it failed in the database (a 500) after it was decided. The world holds every
   * warehouse's ledger of a SKU it touches (the unit of work loads them by SKU).
   */
  requireSkuWithinLimit(sku: string, warehouseId: string, events: StockLedgerEvent[], field: string): void {
    if (events.length === 0) return;
    let next = this.ledger(sku, warehouseId);
    for (const e of events) next = stockLedgerDecider.evolve(next, e);
    let total = next.status === 'active' ? Math.max(0, next.onHand) : 0;
    for (const slot of this.ledgers.values()) {
      const s = slot.state;
      if (s.status === 'active' && s.sku === sku && s.warehouseId !== warehouseId) total += Math.max(0, s.onHand);
    }
    if (total > MAX_ON_HAND) {
      throw new DomainError('ON_HAND_LIMIT', `${sku} would hold ${total} units across its warehouses, more than the ${MAX_ON_HAND} one SKU can`, { field, next: total, limit: MAX_ON_HAND }, 'invalid');
    }
  }

  applyLedger(events: StockLedgerEvent[], meta: CommandMeta): void {
    for (const e of events) {
      const key = ledgerKey(e.sku, e.warehouseId);
      let slot = this.ledgers.get(key);
      if (!slot) {
        slot = { state: stockLedgerDecider.initialState(), before: { onHand: 0, reserved: 0, available: 0, backordered: 0 }, events: [] };
        this.ledgers.set(key, slot);
      }
      slot.state = stockLedgerDecider.evolve(slot.state, e);
      slot.events.push({ event: e, meta });
      this.skuMeta.set(e.sku, meta);
    }
  }

  applyOrder(events: OrderReservationEvent[], meta: CommandMeta): void {
    for (const e of events) {
      const slot = this.orders.get(e.orderId) ?? { state: orderReservationDecider.initialState(), events: [], touched: false };
      slot.state = orderReservationDecider.evolve(slot.state, e);
      slot.events.push({ event: e, meta });
      slot.touched = true;
      this.orders.set(e.orderId, slot);
    }
  }

  apply(result: ProcessResult<unknown>, meta: CommandMeta): void {
    this.applyLedger(result.ledgerEvents, meta);
    this.applyOrder(result.orderEvents, meta);
  }

  requireSku(sku: string): SkuRow {
    const s = this.skus.get(sku);
    if (!s) throw new DomainError('SKU_NOT_FOUND', `SKU ${sku} is not registered; create it with PUT /api/stock/skus/${encodeURIComponent(sku)}`, { sku }, 'not_found');
    return s;
  }

  requireWarehouse(warehouseId: string): WarehouseRow {
    const w = this.allWarehouses.get(warehouseId);
    if (!w) {
      throw new DomainError('WAREHOUSE_NOT_FOUND', `warehouse ${warehouseId} does not exist (known: ${[...this.allWarehouses.keys()].join(', ')})`, { warehouseId }, 'not_found');
    }
    return w;
  }
}

function stored(type: string, data: Record<string, unknown>, meta: CommandMeta, id: string): NewEvent {
  return {
    eventId: id,
    type,
    data,
    metadata: {
      correlationId: meta.correlationId,
      causationId: meta.commandId,
      occurredAt: meta.at,
      ...(meta.actor ? { actor: meta.actor } : {}),
      ...(meta.traceparent ? { traceparent: meta.traceparent } : {}),
    },
  };
}

function withoutType<T extends { type: string }>(e: T): Omit<T, 'type'> {
  const { type: _type, ...data } = e;
  return data;
}

function orderIdOf(c: InventoryCommand): string | undefined {
  return 'orderId' in c ? c.orderId : undefined;
}

/** Orders whose reservation rows a command may change (imports create rows for legacy holds). */
function ordersOf(c: InventoryCommand): string[] {
  if (c.type === 'ImportStock') return c.reservations.map((r) => r.orderId);
  const id = orderIdOf(c);
  return id ? [id] : [];
}

/**
 * Applies a batch of inventory commands in ONE PostgreSQL transaction (ADR 0005):
 * lock the reservation rows and SKU rows involved (sorted, so two instances never deadlock),
 * claim the inbox, decide every command in order against in-memory state with the pure deciders,
 * then write stock rows, reservation rows, open lines and every stream's events in a handful of
 * statements. The row lock serialises writers of a SKU across instances; batching turns one
 * lock hold into hundreds of reservations.
 */
export class StockUnitOfWork {
  private readonly maxAttempts: number;
  /** Transactions committed, and retries by cause (metrics, benchmark, ADR 0005). */
  readonly stats = { transactions: 0, commands: 0, retries: {} as Record<string, number> };

  constructor(private readonly o: StockUnitOfWorkOptions) {
    this.maxAttempts = o.maxAttempts ?? 8;
  }

  async execute(commands: InventoryCommand[]): Promise<CommandResult[]> {
    if (commands.length === 0) return [];
    const endOrders = commands.filter((c) => c.type === 'ReleaseStock' || c.type === 'CommitStock' || c.type === 'ExpireReservation' || c.type === 'ReleaseStockLines').map((c) => orderIdOf(c)!);
    const skus = new Set<string>();
    for (const c of commands) {
      if (c.type === 'ReserveStock') for (const l of c.lines) skus.add(l.sku);
      else if ('sku' in c) skus.add(c.sku);
    }
    for (const r of await this.o.store.reservations([...new Set(endOrders)])) for (const a of r.allocations) skus.add(a.sku);

    let lastError: unknown;
    const started = performance.now();
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      // Read before taking a connection for the transaction: never hold one while waiting for another.
      const warehouses = await this.o.warehouses();
      const client = await this.o.store.pool.connect();
      let broken = false;
      try {
        const orderIds = [...new Set(commands.flatMap(ordersOf))].sort();
        // Locks first, with the BEGIN, before any write: the transaction id is taken after them, so ids follow the lock order.
        await this.o.store.begin(client, orderIds, [...skus].sort());
        const results = await this.inTransaction(client, commands, orderIds, skus, warehouses);
        await client.query('COMMIT');
        this.stats.transactions++;
        this.stats.commands += commands.length;
        this.o.onCommitted?.(commands, results, (performance.now() - started) / 1000);
        return results;
      } catch (e) {
        lastError = e;
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (!isTransient(e)) throw e;
        const cause = (e as Error).name === 'Error' ? ((e as { code?: string }).code ?? 'Error') : (e as Error).name;
        this.stats.retries[cause] = (this.stats.retries[cause] ?? 0) + 1;
        this.o.onRetry?.(cause);
        await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random())));
      } finally {
        client.release(broken);
      }
    }
    throw lastError;
  }

  private async inTransaction(client: PoolClient, commands: InventoryCommand[], orderIds: string[], skus: Set<string>, warehouses: WarehouseRow[]): Promise<CommandResult[]> {
    const { store } = this.o;
    // One statement after the locks: claim the Kafka commands (repeats are redeliveries) and read
    // every row the batch decides on (HTTP retries are found through their stored replies).
    const inboxClaims = commands.flatMap((c) => (c.meta.dedupe?.kind === 'inbox' ? [c.meta.dedupe] : []));
    const httpKeys = commands.flatMap((c) => (c.meta.dedupe?.kind === 'http' ? [c.meta.dedupe.key] : []));
    const recountLedgers = commands.flatMap((c) => (c.type === 'RecountReserved' ? [{ sku: c.sku, warehouseId: c.warehouseId }] : []));
    const locked = await store.load(client, {
      orderIds,
      skus: [...skus],
      claims: inboxClaims,
      httpKeys,
      lineOrders: [...new Set(endOrders(commands))],
      lineLedgers: recountLedgers,
    });
    for (const r of locked.reservations) {
      for (const a of r.allocations) {
        if (!skus.has(a.sku)) {
          skus.add(a.sku);
          throw new LockSetGrew();
        }
      }
    }
    const { fresh, replies } = locked;
    // Request hash of each keyed command seen in this batch (null for inbox claims).
    const seen = new Map<string, string | null>();
    const isRepeat = (c: InventoryCommand): { repeat: boolean; reply?: unknown } => {
      const d = c.meta.dedupe;
      if (!d) return { repeat: false };
      if (d.kind === 'inbox') {
        const id = `i:${d.group}:${d.eventId}`;
        if (seen.has(id)) return { repeat: true };
        seen.set(id, null);
        return { repeat: !fresh.has(d.eventId) };
      }
      // A repeat is the same request again: the same key with another request is refused.
      const hash = commandHash(c);
      const id = `h:${d.key}`;
      if (seen.has(id)) {
        if (seen.get(id) !== hash) throw idempotencyKeyReused(d.clientKey);
        return { repeat: true };
      }
      seen.set(id, hash);
      const stored = replies.get(d.key);
      if (!stored) return { repeat: false };
      if (stored.requestHash !== null && stored.requestHash !== hash) throw idempotencyKeyReused(d.clientKey);
      return { repeat: true, reply: stored.response };
    };

    const world = new BatchWorld(warehouses, locked.skus, locked.stock, locked.reservations, locked.lines);

    const decided: CommandResult[] = [];
    for (const c of commands) {
      try {
        const r = isRepeat(c);
        if (r.repeat) {
          decided.push({ status: 'duplicate', ...(r.reply ? { outcome: r.reply as CommandOutcome } : {}) });
          continue;
        }
        decided.push({ status: 'applied', outcome: this.decide(world, c) });
      } catch (e) {
        if (!isDomainError(e)) throw e;
        decided.push({ status: 'refused', error: e });
      }
    }

    const { writes, appends, levels } = this.changes(world);
    // Level outcomes report the state after the whole batch.
    const results = decided.map((r): CommandResult => {
      if (r.status !== 'applied' || r.outcome.kind !== 'level') return r;
      const l = levels.get(ledgerKey(r.outcome.sku, r.outcome.warehouseId));
      return l ? { ...r, outcome: { ...r.outcome, ...l } } : r;
    });
    commands.forEach((c, i) => {
      const r = results[i];
      if (c.meta.dedupe?.kind === 'http' && r.status === 'applied') writes.httpReplies.push({ key: c.meta.dedupe.key, requestHash: commandHash(c), response: r.outcome });
    });
    await store.write(client, writes);
    // Expected revisions are the versions of the rows just written under their guards; the event
    // store checks them again against the stream heads, and its log-order guard holds because this
    // transaction took its id (first write) only after the locks every writer of these streams takes.
    if (appends.length > 0) await this.o.events.appendToStreamsWithin(client, appends); // a batch of refusals appends nothing
    return results;
  }

  private decide(world: BatchWorld, c: InventoryCommand): CommandOutcome {
    const at = c.meta.at;
    switch (c.type) {
      case 'ReserveStock': {
        if (c.shopId) world.shops.set(c.orderId, c.shopId);
        const result = reserveOrder(
          { orderId: c.orderId, reservationId: c.reservationId, channel: c.channel, lines: c.lines, at, ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}) },
          world.order(c.orderId),
          world,
          this.o.strategy,
        );
        world.apply(result, c.meta);
        return { kind: 'reservation', orderId: c.orderId, result: result.outcome, reservationId: c.reservationId };
      }
      case 'ReleaseStock':
      case 'CommitStock':
      case 'ExpireReservation': {
        const order = world.order(c.orderId);
        const result =
          c.type === 'ReleaseStock'
            ? releaseOrder({ orderId: c.orderId, reason: c.reason, at }, order, world)
            : c.type === 'CommitStock'
              ? commitOrder({ orderId: c.orderId, at }, order, world)
              : expireOrder({ orderId: c.orderId, at }, order, world);
        world.apply(result, c.meta);
        return { kind: 'reservation-end', orderId: c.orderId, result: result.outcome };
      }
      case 'ReleaseStockLines': {
        const result = releaseOrderLines({ orderId: c.orderId, lines: c.lines, reason: c.reason, at }, world.order(c.orderId), world);
        world.apply(result, c.meta);
        return { kind: 'reservation-lines-released', orderId: c.orderId, result: result.outcome };
      }
      case 'ReceiveStock':
      case 'AdjustStock':
      case 'RecountReserved': {
        world.requireWarehouse(c.warehouseId);
        world.requireSku(c.sku);
        const state = world.ledger(c.sku, c.warehouseId);
        if (c.type === 'RecountReserved' && state.status === 'empty') {
          throw new DomainError('LEDGER_NOT_FOUND', `no stock of ${c.sku} in ${c.warehouseId}`, { sku: c.sku, warehouseId: c.warehouseId }, 'not_found');
        }
        const ref = { sku: c.sku, warehouseId: c.warehouseId, at };
        const events = stockLedgerDecider.decide(
          c.type === 'ReceiveStock'
            ? { type: 'ReceiveStock', ...ref, quantity: c.quantity, ...(c.reference ? { reference: c.reference } : {}) }
            : c.type === 'AdjustStock'
              ? { type: 'AdjustStock', ...ref, delta: c.delta, reason: c.reason, ...(c.note ? { note: c.note } : {}) }
              : { type: 'RecountReserved', ...ref },
          state,
        );
        world.requireSkuWithinLimit(c.sku, c.warehouseId, events, c.type === 'ReceiveStock' ? 'quantity' : 'delta');
        world.applyLedger(events, c.meta);
        return this.levelOutcome(world, c.sku, c.warehouseId, events.length > 0);
      }
      case 'ImportStock': {
        world.requireWarehouse(c.warehouseId);
        const sku = world.requireSku(c.sku);
        if (!sku.allowBackorder && c.reserved > c.onHand) {
          throw new DomainError('IMPORT_OVERSOLD', `imported reserved ${c.reserved} exceeds on_hand ${c.onHand} for ${c.sku}@${c.warehouseId}`, {}, 'invalid');
        }
        const reservations: OpenReservationLine[] = c.reservations.map((r) => ({ ...r, reservationId: `import-${r.orderId}` }));
        for (const r of reservations) {
          const order = world.order(r.orderId);
          if (order.status !== 'none' && !(order.status === 'reserved' && order.channel === 'import')) {
            throw new DomainError('IMPORT_CONFLICT', `order ${r.orderId} already has a ${order.status} reservation here`, { orderId: r.orderId });
          }
        }
        const events = stockLedgerDecider.decide(
          { type: 'ImportStock', sku: c.sku, warehouseId: c.warehouseId, at, onHand: c.onHand, reserved: c.reserved, reservations, source: c.source },
          world.ledger(c.sku, c.warehouseId),
        );
        world.requireSkuWithinLimit(c.sku, c.warehouseId, events, 'onHand');
        world.applyLedger(events, c.meta);
        // Imported holds become open reservations of their orders (no stream event: they happened elsewhere).
        for (const r of reservations) {
          const slot = world.orders.get(r.orderId) ?? { state: orderReservationDecider.initialState(), events: [], touched: false };
          const allocation = { lineId: r.lineId, sku: c.sku, warehouseId: c.warehouseId, quantity: r.quantity };
          slot.state =
            slot.state.status === 'reserved'
              ? { ...slot.state, allocations: [...slot.state.allocations, allocation] }
              : { status: 'reserved', reservationId: r.reservationId, channel: 'import', allocations: [allocation] };
          slot.touched = true;
          world.orders.set(r.orderId, slot);
        }
        return this.levelOutcome(world, c.sku, c.warehouseId, true);
      }
    }
  }

  private levelOutcome(world: BatchWorld, sku: string, warehouseId: string, changed: boolean): CommandOutcome {
    const slot = world.ledgers.get(ledgerKey(sku, warehouseId));
    const levels = levelsOf(slot?.state ?? stockLedgerDecider.initialState(), world.policy(sku).safetyStock);
    return { kind: 'level', sku, warehouseId, levels, version: -1, changed };
  }

  /** Turns the in-memory changes into row writes and stream appends. */
  private changes(world: BatchWorld): { writes: WriteSet; appends: StreamAppend[]; levels: Map<string, { levels: StockLevels; version: number }> } {
    const writes: WriteSet = {
      stockUpdates: [],
      stockInserts: [],
      skuUpdates: [],
      reservationUpdates: [],
      reservationInserts: [],
      lineInserts: [],
      lineDeletes: [],
      httpReplies: [],
    };
    const appends: StreamAppend[] = [];
    const levels = new Map<string, { levels: StockLevels; version: number }>();
    const id = () => this.o.newId();

    // Open lines: net effect of the batch's line events.
    const inserted = new Map<string, LineRow>();
    const deleted = new Map<string, { orderId: string; warehouseId: string; lineId: string }>();
    const lineKey = (orderId: string, warehouseId: string, lineId: string) => `${orderId}\u0000${warehouseId}\u0000${lineId}`;

    const changedSkus = new Set<string>();
    const ledgersOfSku = new Map<string, LedgerSlot[]>();
    for (const slot of world.ledgers.values()) {
      if (slot.state.status === 'active') ledgersOfSku.set(slot.state.sku, [...(ledgersOfSku.get(slot.state.sku) ?? []), slot]);
      if (slot.events.length === 0) continue;
      for (const { event: e } of slot.events) {
        changedSkus.add(e.sku);
        if (e.type === 'StockLineReserved') {
          inserted.set(lineKey(e.orderId, e.warehouseId, e.lineId), {
            orderId: e.orderId,
            warehouseId: e.warehouseId,
            lineId: e.lineId,
            sku: e.sku,
            reservationId: e.reservationId,
            quantity: e.quantity,
            expiresAt: e.expiresAt ?? null,
          });
        } else if (e.type === 'StockLineReleased' || e.type === 'StockLineCommitted') {
          const k = lineKey(e.orderId, e.warehouseId, e.lineId);
          if (inserted.has(k)) inserted.delete(k);
          else deleted.set(k, { orderId: e.orderId, warehouseId: e.warehouseId, lineId: e.lineId });
          // A partial release (ReleaseStockLines) leaves the rest open: the row is written again with it (deletes run first).
          const rest = e.type === 'StockLineReleased' && slot.state.status === 'active' ? getLine(slot.state.reservations, e.orderId, e.lineId) : undefined;
          if (rest) inserted.set(k, { orderId: e.orderId, warehouseId: e.warehouseId, lineId: e.lineId, sku: e.sku, reservationId: rest.reservationId, quantity: rest.quantity, expiresAt: rest.expiresAt ?? null });
        } else if (e.type === 'StockImported') {
          for (const r of e.reservations) {
            inserted.set(lineKey(r.orderId, e.warehouseId, r.lineId), {
              orderId: r.orderId,
              warehouseId: e.warehouseId,
              lineId: r.lineId,
              sku: e.sku,
              reservationId: r.reservationId,
              quantity: r.quantity,
              expiresAt: r.expiresAt ?? null,
            });
          }
        }
      }
    }
    writes.lineInserts = [...inserted.values()];
    writes.lineDeletes = [...deleted.values()];

    for (const sku of changedSkus) {
      const skuRow = world.skus.get(sku);
      const safety = skuRow?.safetyStock ?? 0;
      const slots = ledgersOfSku.get(sku) ?? [];
      const n = skuNotifications({
        sku,
        warehouses: slots.map((s) => {
          const st = s.state as Extract<StockLedgerState, { status: 'active' }>;
          return { warehouseId: st.warehouseId, ...(s.events.length > 0 ? { before: s.before } : {}), after: levelsOf(st, safety) };
        }),
        rules: { channels: skuRow?.channelRules ?? [], lowStockThreshold: skuRow?.lowStockThreshold },
        lastPublishedAtp: skuRow?.publishedAtp ?? {},
      });
      const meta = world.skuMeta.get(sku)!;
      for (const s of slots) {
        if (s.events.length === 0) continue;
        const st = s.state as Extract<StockLedgerState, { status: 'active' }>;
        const events: NewEvent[] = s.events.map(({ event, meta: m }) => stored(event.type, withoutType(event), m, id()));
        const level = n.levels.find((l) => l.warehouseId === st.warehouseId);
        if (level) events.push(stored('StockLevelChanged', level, meta, id()));
        const expected = s.original?.version ?? -1;
        const version = expected + events.length;
        appends.push({ streamId: ledgerStreamId(sku, st.warehouseId), expectedRevision: revision(expected), events });
        // Stock exception: short after a shipment after a release, until on_hand covers reserved again.
        const stockException = st.reserved > st.onHand && (s.original?.stockException === true || s.events.some(({ event }) => event.type === 'StockWentNegative'));
        const row: StockRow = { sku, warehouseId: st.warehouseId, onHand: st.onHand, reserved: st.reserved, version, stockException };
        const allowBackorder = skuRow?.allowBackorder ?? false;
        if (s.original) writes.stockUpdates.push({ row, expectedVersion: expected, allowBackorder });
        else writes.stockInserts.push({ row, allowBackorder });
        levels.set(ledgerKey(sku, st.warehouseId), { levels: levelsOf(st, safety), version });
      }
      if (skuRow) {
        const events: NewEvent[] = n.atp.map((a) => stored('AvailableToPromiseChanged', a, meta, id()));
        if (n.lowStock) events.push(stored('LowStockAlerted', n.lowStock, meta, id()));
        const published = { ...skuRow.publishedAtp };
        for (const a of n.atp) published[a.channel] = a.atp;
        if (events.length > 0) appends.push({ streamId: availabilityStreamId(sku), expectedRevision: revision(skuRow.availabilityVersion), events });
        writes.skuUpdates.push({ sku, availabilityVersion: skuRow.availabilityVersion + events.length, totalAvailable: n.totalAvailable, publishedAtp: published });
      }
    }

    for (const [orderId, slot] of world.orders) {
      if (!slot.touched) continue;
      const expected = slot.original?.version ?? -1;
      const events = slot.events.map(({ event, meta }) => stored(event.type, withoutType(event), meta, id()));
      if (events.length > 0) appends.push({ streamId: reservationStreamId(orderId), expectedRevision: revision(expected), events });
      const row = { ...rowOf(orderId, slot.state, expected + events.length), shopId: slot.original?.shopId ?? world.shops.get(orderId) ?? null };
      if (slot.original) writes.reservationUpdates.push({ row, expectedVersion: expected });
      else writes.reservationInserts.push(row);
    }
    return { writes, appends, levels };
  }
}

/**
 * What a keyed request asked for: the command without its metadata (ids, time, correlation,
 * actor), so REST and gRPC calls that ask for the same change hash the same.
 */
function commandHash(c: InventoryCommand): string {
  const { meta: _meta, ...request } = c;
  return requestHash(request);
}

/** A row version as the stream's expected revision: version -1 means no event yet. */
function revision(version: number): number | 'no_stream' {
  return version < 0 ? 'no_stream' : version;
}

function endOrders(commands: InventoryCommand[]): string[] {
  return commands.filter((c) => c.type === 'ReleaseStock' || c.type === 'CommitStock' || c.type === 'ExpireReservation' || c.type === 'ReleaseStockLines').map((c) => orderIdOf(c)!);
}
