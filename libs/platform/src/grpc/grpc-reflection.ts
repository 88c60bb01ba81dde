import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { loadPackageDefinition, type Server, type ServerDuplexStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) answered from the descriptor set that
 * `buf build` compiled (proto/descriptor-set.binpb, written by scripts/proto-gen.sh), so the files
 * a client receives carry their real names (`orders/v1/orders.proto`) and full import lists, exactly
 * as written. @grpc/reflection serves proto-loader's re-synthesised descriptors instead: one file per
 * package under a flattened name and no imports, which strict clients (grpcurl, Postman, Kreya,
 * @bufbuild/protobuf) refuse to link.
 */

/** The compiled descriptor set, relative to the proto root. */
export const DESCRIPTOR_SET_FILE = 'descriptor-set.binpb';

const REFLECTION_PROTO_DIR = resolve(createRequire(__filename).resolve('@grpc/reflection/package.json'), '../build/proto');

/** One proto file: its descriptor and its serialized bytes (what reflection sends). */
interface ServedFile {
  proto: FileDescriptorProto;
  bytes: Uint8Array;
}

/**
 * An index over a set of files: by name, by fully qualified symbol (messages, nested messages,
 * enums, services, methods, extensions), with the services a server really implements.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, ServedFile>();
  private readonly symbols = new Map<string, string>();

  constructor(
    files: readonly FileDescriptorProto[],
    /** Fully qualified names of the services this server implements (and only those are listed). */
    readonly services: readonly string[],
  ) {
    // Links every file the strict way (imports must be present, every type reference must
    // resolve): a descriptor set a strict client would refuse fails the boot instead.
    createFileRegistry(create(FileDescriptorSetSchema, { file: [...files] }));
    for (const proto of files) {
      this.files.set(proto.name, { proto, bytes: toBinary(FileDescriptorProtoSchema, proto) });
      const pkg = proto.package ? `${proto.package}.` : '';
      const indexMessages = (prefix: string, messages: readonly DescriptorProto[]) => {
        for (const m of messages) {
          this.symbols.set(`${prefix}${m.name}`, proto.name);
          for (const e of m.enumType) this.symbols.set(`${prefix}${m.name}.${e.name}`, proto.name);
          for (const x of m.extension) this.symbols.set(`${prefix}${m.name}.${x.name}`, proto.name);
          indexMessages(`${prefix}${m.name}.`, m.nestedType);
        }
      };
      indexMessages(pkg, proto.messageType);
      for (const e of proto.enumType) this.symbols.set(`${pkg}${e.name}`, proto.name);
      for (const x of proto.extension) this.symbols.set(`${pkg}${x.name}`, proto.name);
      for (const s of proto.service) {
        this.symbols.set(`${pkg}${s.name}`, proto.name);
        for (const m of s.method) this.symbols.set(`${pkg}${s.name}.${m.name}`, proto.name);
      }
    }
    for (const service of services) {
      if (!this.symbols.has(service)) throw new Error(`gRPC reflection: service ${service} is not in ${DESCRIPTOR_SET_FILE}; run npm run proto:gen and commit it with the proto`);
    }
  }

  fileNames(): string[] {
    return [...this.files.keys()];
  }

  /** The file and everything it imports, transitively; the file itself first. */
  fileWithDependencies(name: string): Uint8Array[] | undefined {
    const first = this.files.get(name);
    if (!first) return undefined;
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const visit = (fileName: string) => {
      if (seen.has(fileName)) return;
      seen.add(fileName);
      const file = this.files.get(fileName);
      if (!file) return;
      out.push(file.bytes);
      for (const dep of file.proto.dependency) visit(dep);
    };
    visit(name);
    return out;
  }

  fileOfSymbol(symbol: string): string | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }
}

/** The files of the compiled descriptor set (buf build output). */
export function loadDescriptorSet(path: string): FileDescriptorProto[] {
  return fromBinary(FileDescriptorSetSchema, readFileSync(path)).file;
}

interface ReflectionRequest {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type: string; extension_number: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;
const INVALID_ARGUMENT = 3;

/** One reflection answer; `original_request` echoes the question as the protocol requires. */
export function answerReflection(index: DescriptorIndex, request: ReflectionRequest): Record<string, unknown> {
  const base = { valid_host: request.host ?? '', original_request: request };
  const files = (names: Uint8Array[] | undefined, what: string) =>
    names
      ? { ...base, file_descriptor_response: { file_descriptor_proto: names.map((b) => Buffer.from(b)) } }
      : { ...base, error_response: { error_code: NOT_FOUND, error_message: `${what} not found` } };
  switch (request.message_request) {
    case 'list_services':
      return { ...base, list_services_response: { service: index.services.map((name) => ({ name })) } };
    case 'file_by_filename':
      return files(index.fileWithDependencies(request.file_by_filename ?? ''), `file ${request.file_by_filename}`);
    case 'file_containing_symbol': {
      const file = index.fileOfSymbol(request.file_containing_symbol ?? '');
      return files(file === undefined ? undefined : index.fileWithDependencies(file), `symbol ${request.file_containing_symbol}`);
    }
    case 'file_containing_extension':
    case 'all_extension_numbers_of_type':
      // Our protos declare no extensions.
      return { ...base, error_response: { error_code: NOT_FOUND, error_message: 'no extensions are declared' } };
    default:
      return { ...base, error_response: { error_code: request.message_request ? UNIMPLEMENTED : INVALID_ARGUMENT, error_message: 'unknown reflection request' } };
  }
}

/**
 * Adds grpc.reflection.v1.ServerReflection and its v1alpha twin (older grpcurl builds ask it) to a server.
 * `index` may be a factory: it is then called on the first reflection request and its index kept
 * (the parsed descriptor set is ~2 MiB of heap that an idle service need not hold).
 */
export function addReflection(server: Server, index: DescriptorIndex | (() => DescriptorIndex)): void {
  let built = typeof index === 'function' ? undefined : index;
  const indexNow = () => (built ??= (index as () => DescriptorIndex)());
  for (const version of ['v1', 'v1alpha']) {
    const definition = loadSync(resolve(REFLECTION_PROTO_DIR, `grpc/reflection/${version}/reflection.proto`), {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: false,
      oneofs: true,
      includeDirs: [REFLECTION_PROTO_DIR],
    });
    const pkg = loadPackageDefinition(definition) as unknown as { grpc: { reflection: Record<string, { ServerReflection: ServiceClientConstructor }> } };
    const service = pkg.grpc.reflection[version]?.ServerReflection;
    if (!service) throw new Error(`reflection ${version} proto not found`);
    server.addService(service.service, {
      ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, unknown>) => {
        call.on('data', (request: ReflectionRequest) => call.write(answerReflection(indexNow(), request)));
        call.on('end', () => call.end());
      },
    });
  }
}
