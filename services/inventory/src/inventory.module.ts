import { Module } from '@nestjs/common';
import { InventoryGrpcController } from './api/grpc/inventory.grpc.controller';
import { LowStockController } from './api/http/low-stock.controller';
import { StockController } from './api/http/stock.controller';
import { InventoryRuntime } from './infra/inventory-runtime';

/** Inventory's features: stock ledger, reservations, ATP; REST, gRPC and the Kafka command consumer. */
@Module({
  controllers: [StockController, LowStockController, InventoryGrpcController],
  providers: [InventoryRuntime],
  exports: [InventoryRuntime],
})
export class InventoryModule {}
