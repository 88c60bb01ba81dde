import { fold, DomainError } from '@flowline/domain';
import type { EventStore } from '@flowline/eventstore';
import { NO_LINES } from '../domain/open-lines';
import { checkLedger, type LedgerDrift } from '../domain/ledger-verify';
import { atpByChannel } from '../domain/policies/availability.policy';
import { ledgerStreamId, levelsOf, STOCK_LEDGER_EVENT_TYPES, stockLedgerDecider, type StockLedgerEvent, type StockLevels } from '../domain/stock-ledger.decider';
import type { LineRow, PgInventoryStore, ReservationRow, SkuRow, WarehouseRow } from '../infra/pg-inventory-store';
import type { CommandMeta, CommandOutcome, InventoryCommand } from './inventory-commands';
import type { StockUnitOfWork } from './stock-unit-of-work';

export interface WarehouseLevel extends StockLevels {
  sku: string;
  warehouseId: string;
  warehouseName: string;
  safetyStock: number;
  version: number;
  updatedAt?: string;
}

export interface SkuStock {
  sku: string;
  name: string;
  rules: { allowBackorder: boolean; safetyStock: number; lowStockThreshold: number; channels: SkuRow['channelRules'] };
  warehouses: WarehouseLevel[];
  total: StockLevels;
  /** Available-to-promise per channel, from the current total. */
  atp: Record<string, number>;
}

export interface VerifyReport {
  consistent: boolean;
  ledgersChecked: number;
  eventsReplayed: number;
  drifts: LedgerDrift[];
  checkedAt: string;
}

/** Read side and single-command entry points shared by the REST and gRPC adapters. */
export class InventoryService {
  constructor(
    private readonly store: PgInventoryStore,
    private readonly uow: StockUnitOfWork,
    private readonly events: EventStore,
    private readonly warehouses: () => Promise<WarehouseRow[]>,
  ) {}

  /** Runs one command; a refusal is thrown as the DomainError (the API maps it to 404/409/422). */
  async run(command: InventoryCommand): Promise<CommandOutcome | undefined> {
    const [result] = await this.uow.execute([command]);
    if (result.status === 'refused') throw result.error;
    // A repeated Idempotency-Key gets the first outcome back.
    return result.outcome;
  }

  async warehouse(warehouseId: string): Promise<WarehouseRow> {
    const w = (await this.warehouses()).find((x) => x.warehouseId === warehouseId);
    if (!w) throw new DomainError('WAREHOUSE_NOT_FOUND', `warehouse ${warehouseId} does not exist`, { warehouseId }, 'not_found');
    return w;
  }

  async stock(sku: string): Promise<SkuStock> {
    const row = await this.store.sku(sku);
    if (!row) throw new DomainError('SKU_NOT_FOUND', `SKU ${sku} is not registered`, { sku }, 'not_found');
    const names = new Map((await this.warehouses()).map((w) => [w.warehouseId, w.name]));
    const warehouses = (await this.store.stockOf(sku)).map((s): WarehouseLevel => {
      const levels = levelsOf({ status: 'active', sku, warehouseId: s.warehouseId, onHand: s.onHand, reserved: s.reserved, reservations: NO_LINES }, row.safetyStock);
      return { sku, warehouseId: s.warehouseId, warehouseName: names.get(s.warehouseId) ?? s.warehouseId, safetyStock: row.safetyStock, ...levels, version: s.version, ...(s.updatedAt ? { updatedAt: s.updatedAt } : {}) };
    });
    const total = warehouses.reduce<StockLevels>(
      (t, w) => ({ onHand: t.onHand + w.onHand, reserved: t.reserved + w.reserved, available: t.available + w.available, backordered: t.backordered + w.backordered }),
      { onHand: 0, reserved: 0, available: 0, backordered: 0 },
    );
    return {
      sku,
      name: row.name,
      rules: { allowBackorder: row.allowBackorder, safetyStock: row.safetyStock, lowStockThreshold: row.lowStockThreshold, channels: row.channelRules },
      warehouses,
      total,
      atp: atpByChannel(total.available, row.channelRules),
    };
  }

  async reservation(orderId: string): Promise<{ reservation: ReservationRow; openLines: LineRow[] }> {
    const [reservation] = await this.store.reservations([orderId]);
    if (!reservation) throw new DomainError('RESERVATION_NOT_FOUND', `order ${orderId} has no reservation`, { orderId }, 'not_found');
    return { reservation, openLines: await this.store.linesOf({ orderId }) };
  }

  /**
   * Reserved must equal the sum of open reservations for every ledger; with `deep`, the stock row
   * must also equal what the ledger's events fold to.
   */
  async verify(filter: { sku?: string; warehouseId?: string; deep?: boolean }, now: string): Promise<VerifyReport> {
    const totals = await this.store.ledgerTotals(filter);
    const drifts: LedgerDrift[] = [];
    let eventsReplayed = 0;
    for (const t of totals) {
      let ledger;
      if (filter.deep) {
        const recorded = await this.events.readStream(ledgerStreamId(t.sku, t.warehouseId));
        const ledgerEvents = recorded
          .filter((e) => (STOCK_LEDGER_EVENT_TYPES as readonly string[]).includes(e.type))
          .map((e) => ({ type: e.type, ...(e.data as object) }) as StockLedgerEvent);
        eventsReplayed += recorded.length;
        ledger = fold(stockLedgerDecider, ledgerEvents);
      }
      const drift = checkLedger({
        sku: t.sku,
        warehouseId: t.warehouseId,
        row: { onHand: t.onHand, reserved: t.reserved },
        openReservationsSum: t.openSum,
        allowBackorder: t.allowBackorder,
        stockException: t.stockException,
        ...(ledger ? { ledger } : {}),
      });
      if (drift) drifts.push(drift);
    }
    return { consistent: drifts.length === 0, ledgersChecked: totals.length, eventsReplayed, drifts, checkedAt: now };
  }

  /** Repair for imported data: recount reserved to the sum of open reservations wherever they differ. */
  async repair(filter: { sku?: string; warehouseId?: string }, meta: () => CommandMeta): Promise<{ repaired: { sku: string; warehouseId: string; previous: number; corrected: number }[] }> {
    const totals = (await this.store.ledgerTotals(filter)).filter((t) => t.reserved !== t.openSum);
    const repaired: { sku: string; warehouseId: string; previous: number; corrected: number }[] = [];
    for (const t of totals) {
      await this.run({ type: 'RecountReserved', meta: meta(), sku: t.sku, warehouseId: t.warehouseId });
      repaired.push({ sku: t.sku, warehouseId: t.warehouseId, previous: t.reserved, corrected: t.openSum });
    }
    return { repaired };
  }
}
