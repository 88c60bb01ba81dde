import { Module } from '@nestjs/common';
import { FulfillmentApi } from './api/fulfillment-api';
import { FulfillmentGrpcController } from './api/grpc/fulfillment.grpc.controller';
import { CarrierCallbacksController } from './api/http/carrier-callbacks.controller';
import { FulfillmentController } from './api/http/fulfillment.controller';
import { InterceptsController } from './api/http/intercepts.controller';
import { MesCallbacksController } from './api/http/mes-callbacks.controller';
import { WebhooksController } from './api/http/webhooks.controller';
import { FulfillmentRuntime } from './infra/fulfillment-runtime';
import { RawBodyHook } from './infra/raw-body.hook';

/** Fulfillment's features: parcels per order, the warehouse's REST and gRPC, the command consumer, the relay, the simulated carrier. */
@Module({
  controllers: [FulfillmentController, InterceptsController, CarrierCallbacksController, MesCallbacksController, WebhooksController, FulfillmentGrpcController],
  providers: [FulfillmentRuntime, FulfillmentApi, RawBodyHook],
  exports: [FulfillmentRuntime],
})
export class FulfillmentModule {}
