import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus, as names (the loader maps enums to strings). */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** The whole server, in the health protocol's words. */
export const OVERALL = '';

interface HealthRequest {
  service: string;
}
interface HealthResponse {
  status: ServingStatus;
}

/**
 * The standard gRPC health service (grpc.health.v1.Health: Check, List, Watch), served next to the
 * service's own gRPC services. Every known service turns SERVING once the app has started and
 * NOT_SERVING when shutdown begins, so load balancers stop routing before connections close.
 */
@Injectable()
export class GrpcHealth implements BeforeApplicationShutdown {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: ServerWritableStream<HealthRequest, HealthResponse> }>();

  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const w of this.watchers) if (w.service === service) w.call.write({ status });
  }

  /** Sets the overall status and every registered service's. */
  setAll(status: ServingStatus): void {
    if (!this.statuses.has(OVERALL)) this.statuses.set(OVERALL, status);
    for (const service of [...this.statuses.keys()]) this.setStatus(service, status);
  }

  statusOf(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  beforeApplicationShutdown(): void {
    this.setAll('NOT_SERVING');
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  /** Handlers for grpc-js `server.addService(Health.service, ...)`. */
  implementation(): UntypedServiceImplementation {
    return {
      Check: (call: ServerUnaryCall<HealthRequest, HealthResponse>, callback: sendUnaryData<HealthResponse>) => {
        const status = this.statuses.get(call.request.service ?? OVERALL);
        if (!status) {
          callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
          return;
        }
        callback(null, { status });
      },
      List: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<{ statuses: Record<string, HealthResponse> }>) => {
        const statuses: Record<string, HealthResponse> = {};
        for (const [service, status] of this.statuses) statuses[service] = { status };
        callback(null, { statuses });
      },
      Watch: (call: ServerWritableStream<HealthRequest, HealthResponse>) => {
        const service = call.request.service ?? OVERALL;
        const watcher = { service, call };
        this.watchers.add(watcher);
        call.write({ status: this.statuses.get(service) ?? 'SERVICE_UNKNOWN' });
        call.on('cancelled', () => this.watchers.delete(watcher));
      },
    };
  }
}
