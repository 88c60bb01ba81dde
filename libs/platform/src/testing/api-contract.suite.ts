import type { DescMethod, JsonValue } from '@bufbuild/protobuf';
import { createTestDatabase, kafkaBrokers } from '@flowline/testing';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRpcStatus, protoFieldPath, VALIDATION_FAILED } from '../error-model';
import { StrictReflectionClient, type ReflectedCallResult } from './reflection-client';
import { startServiceProcess, type ServiceProcess } from './service-process';

/** Calls `Service/Method` (short service name or fully qualified) with proto JSON, through reflection only. */
export type ReflectedCall = (method: string, request: JsonValue, metadata?: Record<string, string>) => Promise<ReflectedCallResult>;

/** One row of the malformed-input table: the same mistake on gRPC and on REST. */
export interface MalformedInput {
  name: string;
  /** `Service/Method` */
  grpc: { method: string; request: JsonValue; field: string };
  /** The REST twin (path relative to the service's HTTP root), when the API has one. */
  rest?: { method: 'GET' | 'POST'; path: string; body?: unknown; headers?: Record<string, string>; field: string };
}

export interface ApiContractSuiteOptions {
  /** Folder under services/. */
  service: string;
  /** Exactly the gRPC services the port must list (health included). */
  grpcServices: string[];
  env?: () => Record<string, string>;
  /**
   * Calls every RPC once with a meaningful request; returns per method the result (the suite
   * checks every method of every listed service was called and none was UNIMPLEMENTED).
   */
  exercise: (call: ReflectedCall, http: { url: string }) => Promise<void>;
  malformed: MalformedInput[];
}

/**
 * The public-API contract every service meets (issue #11), run against the real main.ts as its own
 * process: a client knowing nothing but server reflection lists the services, describes them
 * (linking the served files strictly: real names, full imports) and calls every RPC; the
 * malformed-input table answers INVALID_ARGUMENT with google.rpc.BadRequest naming the field, and
 * the REST twin 400 problem+json naming it, both with code VALIDATION_FAILED.
 */
export function apiContractSuite(opts: ApiContractSuiteOptions): void {
  describe(`${opts.service} public API contract`, () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let svc: ServiceProcess | undefined;
    let client: StrictReflectionClient | undefined;
    const methods = new Map<string, DescMethod>();
    const called = new Map<string, ReflectedCallResult>();
    const running = () => {
      if (!svc || !client) throw new Error('service did not start');
      return { svc, client };
    };

    beforeAll(async () => {
      db = await createTestDatabase(`contract_${opts.service.replace(/-/g, '_')}`);
      svc = await startServiceProcess({
        service: opts.service,
        env: { DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers().join(','), ...(opts.env?.() ?? {}) },
      });
      client = new StrictReflectionClient(svc.grpcAddress);
    }, 120_000);

    afterAll(async () => {
      client?.close();
      await svc?.stop('SIGKILL');
      await db?.drop();
    });

    const call: ReflectedCall = async (name, request, metadata = {}) => {
      const method = methods.get(name) ?? [...methods.entries()].find(([k]) => k.endsWith(`.${name}`))?.[1];
      if (!method) throw new Error(`no reflected method ${name} (have ${[...methods.keys()].join(', ')})`);
      const md = new Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      const result = method.methodKind === 'server_streaming' ? await running().client.firstOfStream(method, request, 3_000) : await running().client.call(method, request, md);
      called.set(`${method.parent.typeName}/${method.name}`, result);
      return result;
    };

    it('lists exactly the services its port implements', async () => {
      expect((await running().client.listServices()).sort()).toEqual([...opts.grpcServices].sort());
    });

    it('describes every service from files served under their real names with full import lists (strict link)', async () => {
      const { client: c } = running();
      for (const service of opts.grpcServices) {
        const desc = await c.describe(service);
        expect(desc.methods.length, service).toBeGreaterThan(0);
        for (const m of desc.methods) methods.set(`${service}/${m.name}`, m);
        const file = c.fileDescriptor(desc.file.proto.name);
        // package flowline.orders.v1 lives in orders/v1/orders.proto, not flowline_orders_v1.proto
        expect(desc.file.proto.name, service).toMatch(/^[a-z]+(\/[a-z0-9_]+)*\/v\d+(alpha|beta)?\d*\/[a-z0-9_]+\.proto$/);
        expect(file, desc.file.proto.name).toBeDefined();
        for (const dep of file?.dependency ?? []) expect(c.fileDescriptor(dep), `${desc.file.proto.name} imports ${dep}`).toBeDefined();
      }
      for (const name of c.servedFileNames) expect(name).not.toMatch(/^[a-z0-9]+(_[a-z0-9]+)+\.proto$/);
      // Every message a method uses resolves in the linked registry (createFileRegistry threw otherwise).
      const registry = c.registry();
      for (const m of methods.values()) {
        expect(registry.getMessage(m.input.typeName)).toBeDefined();
        expect(registry.getMessage(m.output.typeName)).toBeDefined();
      }
    });

    it('calls every RPC of every listed service with the reflected descriptors only', async () => {
      if (!methods.size) throw new Error('describe first');
      await call('grpc.health.v1.Health/Check', { service: '' });
      await call('grpc.health.v1.Health/List', {});
      await call('grpc.health.v1.Health/Watch', { service: '' });
      await opts.exercise(call, { url: running().svc.httpUrl });
      const missing = [...methods.keys()].filter((m) => !called.has(m));
      expect(missing, 'RPCs never called').toEqual([]);
      for (const [m, r] of called) {
        expect(r.error?.code, `${m}: ${r.error?.details}`).not.toBe(GrpcStatus.UNIMPLEMENTED);
        expect(r.error?.code, `${m}: ${r.error?.details}`).not.toBe(GrpcStatus.INTERNAL);
        expect(r.error?.code, `${m}: ${r.error?.details}`).not.toBe(GrpcStatus.UNKNOWN);
      }
    });

    it.each(opts.malformed.map((m) => [m.name, m] as const))('%s: INVALID_ARGUMENT / 400 naming the field, same code on both', async (_name, row) => {
      const result = await call(row.grpc.method, row.grpc.request);
      expect(result.ok, 'the call should have been refused').toBe(false);
      expect(result.error?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      const status = decodeRpcStatus(result.error?.metadata);
      expect(status?.errorInfo).toMatchObject({ reason: VALIDATION_FAILED, domain: `${opts.service}.flowline` });
      expect(status?.fieldViolations.map((v) => v.field)).toContain(protoFieldPath(row.grpc.field));
      if (!row.rest) return;
      const res = await fetch(`${running().svc.httpUrl}${row.rest.path}`, {
        method: row.rest.method,
        headers: { ...(row.rest.body !== undefined ? { 'content-type': 'application/json' } : {}), ...row.rest.headers },
        ...(row.rest.body !== undefined ? { body: JSON.stringify(row.rest.body) } : {}),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { code: string; status: number; errors: { field: string }[]; domain: string };
      expect(body).toMatchObject({ code: VALIDATION_FAILED, status: 400, domain: `${opts.service}.flowline` });
      expect(body.errors.map((e) => e.field)).toContain(row.rest.field);
    });
  });
}
