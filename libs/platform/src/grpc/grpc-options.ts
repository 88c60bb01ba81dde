import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type Server, type ServiceClientConstructor } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import type { GrpcHealth } from './grpc-health';
import { addReflection, DESCRIPTOR_SET_FILE, DescriptorIndex, loadDescriptorSet } from './grpc-reflection';

/** A proto package a service serves, and the file that defines it (relative to the proto root). */
export interface GrpcPackage {
  /** e.g. `flowline.orders.v1` */
  package: string;
  /** e.g. `orders/v1/orders.proto` (or an absolute path) */
  protoPath: string;
}

/**
 * The repo's proto/ folder: FLOWLINE_PROTO_ROOT when set (a built image copies proto/ elsewhere),
 * else found upwards from this file (libs/platform/src/grpc -> repo root).
 */
export function protoRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOWLINE_PROTO_ROOT) return resolve(env.FLOWLINE_PROTO_ROOT);
  for (const up of ['../../../../proto', '../../../proto', '../../proto']) {
    const candidate = resolve(__dirname, up);
    if (existsSync(resolve(candidate, 'common/v1/common.proto'))) return candidate;
  }
  return resolve(process.cwd(), 'proto');
}

export const HEALTH_PACKAGE = 'grpc.health.v1';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';
export const HEALTH_SERVICE = `${HEALTH_PACKAGE}.Health`;

/**
 * proto-loader options shared by the server and the tests' clients. They match the generated
 * TypeScript types in libs/contracts: camelCase fields, int64 as number, enums as their names,
 * defaults filled in (so repeated fields are arrays and strings are never undefined).
 */
export function loaderOptions(root: string) {
  return {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    oneofs: true,
    includeDirs: [root],
  };
}

/** Fully qualified names of the services a package definition defines under the given packages. */
export function servicesIn(definition: PackageDefinition, packages: readonly string[]): string[] {
  return Object.entries(definition)
    .filter(([name, value]) => !('format' in value) && packages.some((p) => name.startsWith(`${p}.`)))
    .map(([name]) => name);
}

function lookup(root: GrpcObject, path: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function' || !('service' in node)) throw new Error(`gRPC service ${path} not found in the loaded protos`);
  return node as ServiceClientConstructor;
}

/**
 * What reflection serves: every file of proto/descriptor-set.binpb (buf's compilation of proto/,
 * grpc/health included: real file names and imports), listing only `services`, the ones this
 * server implements (tracking imports orders.proto but does not serve OrderService).
 */
export function reflectionIndex(root: string, services: readonly string[]): DescriptorIndex {
  return new DescriptorIndex(loadDescriptorSet(resolve(root, DESCRIPTOR_SET_FILE)), services);
}

export interface GrpcServerOptions {
  url: string;
  packages: readonly GrpcPackage[];
  health: GrpcHealth;
  /** Called with the names of the services the server exposes (health included). */
  onServices?: (services: string[]) => void;
  root?: string;
}

/**
 * Nest gRPC microservice options: the service's packages plus grpc.health.v1, server reflection
 * (see {@link reflectionIndex}) over the compiled descriptor set (so grpcurl / Postman list and describe the services), and the health
 * service bound to {@link GrpcHealth}. Health is loaded but not listed as a Nest package: it is
 * served by plain grpc-js handlers, not by Nest controllers.
 */
export function grpcMicroserviceOptions(options: GrpcServerOptions): GrpcOptions {
  const root = options.root ?? protoRoot();
  const packages = options.packages.map((p) => p.package);
  if (!packages.length) throw new Error('gRPC needs at least one package of the service\'s own');
  const protoPaths = [...options.packages.map((p) => p.protoPath), HEALTH_PROTO].map((p) => resolve(root, p));
  return {
    transport: Transport.GRPC,
    options: {
      url: options.url,
      package: packages,
      protoPath: [...new Set(protoPaths)],
      loader: loaderOptions(root),
      onLoadPackageDefinition: (definition: PackageDefinition, server: Server) => {
        const services = [...servicesIn(definition, packages), HEALTH_SERVICE];
        // Built here once so that a descriptor set missing a served service fails the boot, then
        // dropped: reflection builds its own on the first request (idle memory, issue #10 item 6).
        reflectionIndex(root, services);
        addReflection(server, () => reflectionIndex(root, services));
        server.addService(lookup(loadPackageDefinition(definition), HEALTH_SERVICE).service, options.health.implementation());
        options.onServices?.(services);
      },
    },
  };
}
