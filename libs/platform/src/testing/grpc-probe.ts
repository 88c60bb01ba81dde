import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { credentials, loadPackageDefinition, type Client, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
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

function lookup(root: GrpcObject, path: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function') throw new Error(`service ${path} not found`);
  return node as ServiceClientConstructor;
}

/** A grpc-js client for `service` (fully qualified) defined in `protoPath` (relative to proto/). */
export function grpcClient(address: string, protoPath: string, service: string): Client & Record<string, Function> {
  const root = protoRoot();
  const definition = loadSync(resolve(root, protoPath), loaderOptions(root));
  const Ctor = lookup(loadPackageDefinition(definition), service);
  return new Ctor(address, credentials.createInsecure()) as Client & Record<string, Function>;
}

/** Calls a unary method and resolves with its response (rejects with the gRPC error). */
export function unary<Res = unknown>(client: Client & Record<string, Function>, method: string, request: unknown, deadlineMs = 5_000): Promise<Res> {
  return new Promise((resolvePromise, reject) => {
    client[method](request, { deadline: Date.now() + deadlineMs }, (error: Error | null, response: Res) =>
      error ? reject(error) : resolvePromise(response),
    );
  });
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
  const definition = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, arrays: true, oneofs: true });
  const Ctor = lookup(loadPackageDefinition(definition), 'grpc.reflection.v1.ServerReflection');
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, Function>;
  return new Promise((resolvePromise, reject) => {
    const call = client.ServerReflectionInfo({ deadline: Date.now() + deadlineMs });
    call.on('data', (res: { list_services_response?: { service: { name: string }[] }; error_response?: { error_message: string } }) => {
      call.end();
      client.close();
      if (res.error_response) reject(new Error(res.error_response.error_message));
      else resolvePromise((res.list_services_response?.service ?? []).map((s) => s.name));
    });
    call.on('error', (error: Error) => {
      client.close();
      reject(error);
    });
    call.write({ list_services: '' });
  });
}

/** Reflection: the file descriptor (serialized FileDescriptorProto) that defines a symbol. */
export function grpcFileContainingSymbol(address: string, symbol: string, deadlineMs = 5_000): Promise<Buffer[]> {
  const definition = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, arrays: true, oneofs: true });
  const Ctor = lookup(loadPackageDefinition(definition), 'grpc.reflection.v1.ServerReflection');
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, Function>;
  return new Promise((resolvePromise, reject) => {
    const call = client.ServerReflectionInfo({ deadline: Date.now() + deadlineMs });
    call.on('data', (res: { file_descriptor_response?: { file_descriptor_proto: Buffer[] }; error_response?: { error_message: string } }) => {
      call.end();
      client.close();
      if (res.error_response) reject(new Error(res.error_response.error_message));
      else resolvePromise(res.file_descriptor_response?.file_descriptor_proto ?? []);
    });
    call.on('error', (error: Error) => {
      client.close();
      reject(error);
    });
    call.write({ file_containing_symbol: symbol });
  });
}
