import { Requires } from '@flowline/auth';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { inventoryV1 } from '@flowline/contracts';
import { DomainError } from '@flowline/domain';
import { enumValues, optionalId, optionalSku, pageSize, RequestValidationError, requireId, requireSku } from '@flowline/platform';
import type { CommandMeta } from '../../application/inventory-commands';
import type { WarehouseLevel } from '../../application/inventory.service';
import type { AdjustmentReason } from '../../domain/stock-ledger.decider';
import { InventoryRuntime } from '../../infra/inventory-runtime';
import type { ReservationRow } from '../../infra/pg-inventory-store';
import { reservationVisible } from '../shop-scope';

type Level = inventoryV1.StockLevel;

function toLevel(l: WarehouseLevel): Level {
  return {
    sku: l.sku,
    warehouseId: l.warehouseId,
    onHand: l.onHand,
    reserved: l.reserved,
    available: l.available,
    version: l.version,
    updatedAt: l.updatedAt ?? '',
    safetyStock: l.safetyStock,
    backordered: l.backordered,
    warehouseName: l.warehouseName,
  };
}

const STATUS_NAMES: Record<string, string> = {
  RESERVATION_STATUS_ACTIVE: 'RESERVATION_STATUS_ACTIVE',
  RESERVATION_STATUS_RELEASED: 'RESERVATION_STATUS_RELEASED',
  RESERVATION_STATUS_COMMITTED: 'RESERVATION_STATUS_COMMITTED',
};

const STATUS: Record<ReservationRow['status'], string> = {
  reserved: 'RESERVATION_STATUS_ACTIVE',
  released: 'RESERVATION_STATUS_RELEASED',
  committed: 'RESERVATION_STATUS_COMMITTED',
  refused: 'RESERVATION_STATUS_UNSPECIFIED',
};

/** gRPC `flowline.inventory.v1.InventoryService`: the same use cases as REST. */
@Controller()
export class InventoryGrpcController {
  constructor(private readonly runtime: InventoryRuntime) {}

  private meta(m: inventoryV1.ReceiveStockRequest['meta'], scope: string): CommandMeta {
    const key = m?.requestId;
    return this.runtime.meta({
      ...(key ? { commandId: `${scope}:${key}`, dedupe: { kind: 'http', key: `${scope}:${key}`, clientKey: key } } : {}),
      ...(m?.correlationId ? { correlationId: m.correlationId } : {}),
      ...(m?.actor?.id ? { actor: { kind: (m.actor.kind || 'user') as 'user', id: m.actor.id, ...(m.actor.role ? { role: m.actor.role } : {}) } } : {}),
    });
  }

  private async level(sku: string, warehouseId: string): Promise<Level> {
    const stock = await this.runtime.service.stock(sku);
    const l = stock.warehouses.find((w) => w.warehouseId === warehouseId);
    if (!l) throw new DomainError('LEDGER_NOT_FOUND', `no stock of ${sku} in ${warehouseId}`, { sku, warehouseId }, 'not_found');
    return toLevel(l);
  }

  @GrpcMethod('InventoryService', 'ReceiveStock')
  @Requires('update', 'Stock')
  async receiveStock(req: inventoryV1.ReceiveStockRequest): Promise<inventoryV1.ReceiveStockResponse> {
    const sku = requireSku('sku', req.sku);
    await this.runtime.service.run({
      type: 'ReceiveStock',
      meta: this.meta(req.meta, 'receipt'),
      sku,
      warehouseId: requireId('warehouseId', req.warehouseId),
      quantity: Number(req.quantity),
      ...(req.reference ? { reference: req.reference } : {}),
    });
    return { level: await this.level(sku, req.warehouseId) };
  }

  @GrpcMethod('InventoryService', 'AdjustStock')
  @Requires('adjust', 'Stock')
  async adjustStock(req: inventoryV1.AdjustStockRequest): Promise<inventoryV1.AdjustStockResponse> {
    const sku = requireSku('sku', req.sku);
    await this.runtime.service.run({
      type: 'AdjustStock',
      meta: this.meta(req.meta, 'adjustment'),
      sku,
      warehouseId: requireId('warehouseId', req.warehouseId),
      delta: Number(req.delta),
      reason: req.reason as AdjustmentReason,
      ...(req.note ? { note: req.note } : {}),
    });
    return { level: await this.level(sku, req.warehouseId) };
  }

  @GrpcMethod('InventoryService', 'GetStock')
  @Requires('read', 'Stock')
  async getStock(req: inventoryV1.GetStockRequest): Promise<inventoryV1.GetStockResponse> {
    const sku = requireSku('sku', req.sku);
    if (optionalId('warehouseId', req.warehouseId)) await this.runtime.service.warehouse(req.warehouseId);
    const stock = await this.runtime.service.stock(sku);
    const levels = stock.warehouses.filter((w) => !req.warehouseId || w.warehouseId === req.warehouseId);
    return {
      levels: levels.map(toLevel),
      totalAvailable: levels.reduce((s, l) => s + l.available, 0),
      totalOnHand: levels.reduce((s, l) => s + l.onHand, 0),
      totalReserved: levels.reduce((s, l) => s + l.reserved, 0),
      atp: req.warehouseId ? [] : Object.entries(stock.atp).map(([channel, atp]) => ({ channel, atp })),
    };
  }

  @GrpcMethod('InventoryService', 'GetReservations')
  @Requires('read', 'Stock')
  async getReservations(req: inventoryV1.GetReservationsRequest, metadata: Metadata): Promise<inventoryV1.GetReservationsResponse> {
    const wanted = new Set<string>(enumValues('statuses', req.statuses, STATUS_NAMES));
    // All of a query's matches come back in one page; a page size is still checked, never clamped.
    pageSize('page.pageSize', req.page?.pageSize, { max: 1000 });
    optionalId('orderId', req.orderId);
    const sku = optionalSku('sku', req.sku);
    optionalId('warehouseId', req.warehouseId);
    let rows: ReservationRow[];
    if (req.orderId) {
      rows = await this.runtime.store.reservations([req.orderId]);
    } else if (sku) {
      const lines = await this.runtime.store.linesOf({ sku, ...(req.warehouseId ? { warehouseId: req.warehouseId } : {}) });
      rows = await this.runtime.store.reservations([...new Set(lines.map((l) => l.orderId))]);
    } else {
      throw new RequestValidationError([{ field: 'orderId', constraint: 'required', message: 'give orderId or sku' }]);
    }
    const reservations = rows
      // Another shop's order's reservation is left out, as an order without one (ADR 0018).
      .filter((r) => r.status !== 'refused' && reservationVisible(metadata, r))
      .map(
        (r): inventoryV1.Reservation => ({
          reservationId: r.reservationId ?? '',
          orderId: r.orderId,
          status: STATUS[r.status] as unknown as inventoryV1.ReservationStatus,
          allocations: r.allocations,
          expiresAt: r.expiresAt ?? '',
          createdAt: r.createdAt ?? '',
          updatedAt: r.updatedAt ?? '',
          releaseReason: r.releaseReason ?? '',
        }),
      )
      .filter((r) => wanted.size === 0 || wanted.has(String(r.status)));
    return { reservations, page: { nextPageToken: '', totalSize: reservations.length } };
  }

  @GrpcMethod('InventoryService', 'VerifyLedger')
  @Requires('read', 'Stock')
  async verifyLedger(req: inventoryV1.VerifyLedgerRequest): Promise<inventoryV1.VerifyLedgerResponse> {
    // The SKU in the one form (NFKC, trimmed) as REST takes it: a fullwidth or padded code finds its ledger.
    const sku = optionalSku('sku', req.sku);
    optionalId('warehouseId', req.warehouseId);
    const report = await this.runtime.service.verify(
      { ...(sku ? { sku } : {}), ...(req.warehouseId ? { warehouseId: req.warehouseId } : {}), deep: !req.shallow },
      new Date().toISOString(),
    );
    return {
      consistent: report.consistent,
      streamsChecked: report.ledgersChecked,
      eventsReplayed: report.eventsReplayed,
      discrepancies: report.drifts.flatMap((d) =>
        d.problems.map((problem) => ({
          sku: d.sku,
          warehouseId: d.warehouseId,
          field: problem.includes('on_hand') && !problem.includes('reserved') ? 'on_hand' : 'reserved',
          expected: d.openReservationsSum,
          actual: d.reserved,
          problem,
        })),
      ),
      checkedAt: report.checkedAt,
    };
  }
}
