import { withTestAuthorization } from './grpc-probe';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, type DescMethod, type DescService, type FileRegistry, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { Client, credentials, loadPackageDefinition, Metadata, type ClientDuplexStream, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * A gRPC client that knows nothing but server reflection, built the strict way grpcurl, Postman and
 * Kreya are: it asks the server for the files defining each listed service, follows their import
 * lists by file name, and links them with @bufbuild/protobuf's createFileRegistry, which refuses a
 * file whose imports are missing or whose type references do not resolve. Calls then encode and
 * decode with those descriptors only (proto JSON in, proto JSON out), never with our .proto files.
 */

const REFLECTION_PROTO = resolve(createRequire(__filename).resolve('@grpc/reflection/package.json'), '../build/proto/grpc/reflection/v1/reflection.proto');

interface ReflectionAnswer {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

export interface ReflectedCallResult {
  ok: boolean;
  /** Proto JSON of the response (ok) */
  response?: JsonValue;
  error?: ServiceError;
}

export class StrictReflectionClient {
  private readonly reflection: Client & { ServerReflectionInfo: (options: object) => ClientDuplexStream<object, ReflectionAnswer> };
  private readonly raw: Client;
  private stream: ClientDuplexStream<object, ReflectionAnswer> | undefined;
  private pending: ((answer: ReflectionAnswer | Error) => void)[] = [];
  private readonly files = new Map<string, FileDescriptorProto>();
  /** File names in the order reflection served them, per request: for tests on names and imports. */
  readonly servedFileNames = new Set<string>();

  constructor(readonly address: string) {
    const definition = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, arrays: true, oneofs: true });
    const pkg = loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } } };
    this.reflection = new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure()) as never;
    this.raw = new Client(address, credentials.createInsecure());
  }

  private ask(request: object): Promise<ReflectionAnswer> {
    if (!this.stream) {
      const stream = this.reflection.ServerReflectionInfo({ deadline: Date.now() + 30_000 });
      stream.on('data', (answer: ReflectionAnswer) => this.pending.shift()?.(answer));
      stream.on('error', (error: Error) => {
        for (const p of this.pending.splice(0)) p(error);
        this.stream = undefined;
      });
      this.stream = stream;
    }
    return new Promise((resolvePromise, reject) => {
      this.pending.push((answer) => (answer instanceof Error ? reject(answer) : answer.error_response ? reject(new Error(answer.error_response.error_message)) : resolvePromise(answer)));
      this.stream?.write(request);
    });
  }

  async listServices(): Promise<string[]> {
    return ((await this.ask({ list_services: '' })).list_services_response?.service ?? []).map((s) => s.name);
  }

  private keep(answer: ReflectionAnswer): FileDescriptorProto[] {
    const out = (answer.file_descriptor_response?.file_descriptor_proto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
    for (const f of out) {
      this.servedFileNames.add(f.name);
      if (!this.files.has(f.name)) this.files.set(f.name, f);
    }
    return out;
  }

  /** Fetches the file defining `symbol` and, by file name, every import it still lacks. */
  async loadSymbol(symbol: string): Promise<FileDescriptorProto> {
    const [file] = this.keep(await this.ask({ file_containing_symbol: symbol }));
    if (!file) throw new Error(`reflection returned no file for ${symbol}`);
    const queue = [...file.dependency];
    while (queue.length) {
      const name = queue.shift() as string;
      if (this.files.has(name)) continue;
      const got = this.keep(await this.ask({ file_by_filename: name }));
      if (!got.some((f) => f.name === name)) throw new Error(`reflection did not serve ${name}`);
      for (const f of got) queue.push(...f.dependency);
    }
    return file;
  }

  fileDescriptor(name: string): FileDescriptorProto | undefined {
    return this.files.get(name);
  }

  /** Links every file fetched so far; throws as a strict client does on a missing import. */
  registry(): FileRegistry {
    // Imports first, as in a FileDescriptorSet protoc or buf writes.
    const ordered: FileDescriptorProto[] = [];
    const seen = new Set<string>();
    const visit = (f: FileDescriptorProto) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      for (const dep of f.dependency) {
        const d = this.files.get(dep);
        if (d) visit(d);
      }
      ordered.push(f);
    };
    for (const f of this.files.values()) visit(f);
    return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  }

  /** `describe`: the service as the linked descriptors define it. */
  async describe(service: string): Promise<DescService> {
    await this.loadSymbol(service);
    const desc = this.registry().getService(service);
    if (!desc) throw new Error(`service ${service} not in the reflected files`);
    return desc;
  }

  /** A unary call built from the reflected descriptors only. */
  async call(method: DescMethod, request: JsonValue, metadata = new Metadata(), deadlineMs = 15_000): Promise<ReflectedCallResult> {
    const registry = this.registry();
    const message = fromJson(method.input, request, { registry });
    await withTestAuthorization(metadata);
    return new Promise((resolvePromise) => {
      this.raw.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (m: typeof message) => Buffer.from(toBinary(method.input, m)),
        (b: Buffer) => fromBinary(method.output, b),
        message,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error, response) => resolvePromise(error || !response ? { ok: false, ...(error ? { error } : {}) } : { ok: true, response: toJson(method.output, response, { registry }) }),
      );
    });
  }

  /** A server-streaming call: resolves with the first message (then cancels) or the error. */
  async firstOfStream(method: DescMethod, request: JsonValue, deadlineMs = 15_000): Promise<ReflectedCallResult> {
    const registry = this.registry();
    const message = fromJson(method.input, request, { registry });
    const metadata = await withTestAuthorization(new Metadata());
    return new Promise((resolvePromise) => {
      const call = this.raw.makeServerStreamRequest(
        `/${method.parent.typeName}/${method.name}`,
        (m: typeof message) => Buffer.from(toBinary(method.input, m)),
        (b: Buffer) => fromBinary(method.output, b),
        message,
        metadata,
        { deadline: Date.now() + deadlineMs },
      );
      let done = false;
      call.on('data', (response) => {
        if (done) return;
        done = true;
        resolvePromise({ ok: true, response: toJson(method.output, response as never, { registry }) });
        call.cancel();
      });
      call.on('error', (error: ServiceError) => {
        if (!done) resolvePromise({ ok: false, error });
        done = true;
      });
    });
  }

  close(): void {
    this.stream?.end();
    this.reflection.close();
    this.raw.close();
  }
}
