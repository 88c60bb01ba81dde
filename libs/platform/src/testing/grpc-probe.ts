import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import {
  type CallOptions,
  type Client,
  type ClientDuplexStream,
  credentials,
  type GrpcObject,
  Metadata,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HEALTH_PROTO, HEALTH_SERVICE, loaderOptions, protoRoot } from '../grpc/grpc-options';

/**
 * Small gRPC clients for tests and scripts: reflection (what does this server serve?), health
 * checks, and a client for any service under proto/. Plain grpc-js, no Nest.
 */

const REFLECTION_PROTO = resolve(
  createRequire(__filename).resolve('@grpc/reflection/package.json'),
  '../build/proto/grpc/reflection/v1/reflection.proto',
);

/** A grpc-js client whose methods come from a proto loaded at run time. */
export type DynamicGrpcClient = Client & { [method: string]: unknown };
type BidiMethod = (options: CallOptions) => ClientDuplexStream<unknown, unknown>;

function lookup(root: GrpcObject, path: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function') throw new Error(`service ${path} not found`);
  return node as ServiceClientConstructor;
}

/** A grpc-js client for `service` (fully qualified) defined in `protoPath` (relative to proto/). */
export function grpcClient(address: string, protoPath: string, service: string): DynamicGrpcClient {
  const root = protoRoot();
  const definition = loadSync(resolve(root, protoPath), loaderOptions(root));
  const Ctor = lookup(loadPackageDefinition(definition), service);
  return new Ctor(address, credentials.createInsecure()) as DynamicGrpcClient;
}

/**
 * Tests only: the integration tier's setup (libs/testing/src/auth-setup.ts) registers the default
 * bearer token (the demo admin's, from the real issuer) under this symbol; the helpers below put it
 * on calls whose metadata has no `authorization`. An explicit empty value sends none (401 tests).
 * Outside the tests nothing is registered and nothing is added.
 */
const DEFAULT_AUTH = Symbol.for('flowline.test.defaultAuthorization');

export async function withTestAuthorization(metadata: Metadata): Promise<Metadata> {
  const [current] = metadata.get('authorization');
  if (current !== undefined) {
    if (!current) metadata.remove('authorization');
    return metadata;
  }
  const provider = (globalThis as { [DEFAULT_AUTH]?: () => Promise<string | undefined> })[DEFAULT_AUTH];
  const value = provider ? await provider() : undefined;
  if (value) metadata.set('authorization', value);
  return metadata;
}

/** Calls a unary method and resolves with its response (rejects with the gRPC error). */
export async function unary<Res = unknown>(client: DynamicGrpcClient, method: string, request: unknown, deadlineMs = 5_000, metadata = new Metadata()): Promise<Res> {
  const call = client[method];
  if (typeof call !== 'function') throw new Error(`no method ${method} on this client`);
  await withTestAuthorization(metadata);
  return new Promise((resolvePromise, reject) => {
    (call as (request: unknown, metadata: Metadata, options: CallOptions, callback: (error: ServiceError | null, response: unknown) => void) => void).call(
      client,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (error, response) => (error ? reject(error) : resolvePromise(response as Res)),
    );
  });
}

/** Opens the reflection stream, sends one request, resolves with the first answer. */
function reflect<T>(address: string, request: Record<string, string>, pick: (res: ReflectionResponse) => T, deadlineMs: number): Promise<T> {
  const definition = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, arrays: true, oneofs: true });
  const Ctor = lookup(loadPackageDefinition(definition), 'grpc.reflection.v1.ServerReflection');
  const client = new Ctor(address, credentials.createInsecure()) as DynamicGrpcClient;
  return new Promise((resolvePromise, reject) => {
    const call = (client.ServerReflectionInfo as BidiMethod).call(client, { deadline: Date.now() + deadlineMs });
    call.on('data', (res: ReflectionResponse) => {
      call.end();
      client.close();
      if (res.error_response) reject(new Error(res.error_response.error_message));
      else resolvePromise(pick(res));
    });
    call.on('error', (error: Error) => {
      client.close();
      reject(error);
    });
    call.write(request);
  });
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_message: string };
}

/** grpc.health.v1.Health/Check of one service ('' = the whole server): SERVING, NOT_SERVING, ... */
export async function grpcHealthCheck(address: string, service = ''): Promise<string> {
  const client = grpcClient(address, HEALTH_PROTO, HEALTH_SERVICE);
  try {
    const res = await unary<{ status: string }>(client, 'Check', { service });
    return res.status;
  } finally {
    client.close();
  }
}

/** Service names the server lists through reflection (grpc.reflection.v1 ListServices). */
export function grpcListServices(address: string, deadlineMs = 5_000): Promise<string[]> {
  return reflect(address, { list_services: '' }, (res) => (res.list_services_response?.service ?? []).map((s) => s.name), deadlineMs);
}

/** Reflection: the file descriptors (serialized FileDescriptorProto) that define a symbol. */
export function grpcFileContainingSymbol(address: string, symbol: string, deadlineMs = 5_000): Promise<Buffer[]> {
  return reflect(address, { file_containing_symbol: symbol }, (res) => res.file_descriptor_response?.file_descriptor_proto ?? [], deadlineMs);
}
