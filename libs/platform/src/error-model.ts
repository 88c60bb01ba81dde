import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { create, createFileRegistry, type DescMessage, type FileRegistry, fromBinary, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { HttpException } from '@nestjs/common';
import { DomainError, isDomainError } from '@flowline/domain';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { DESCRIPTOR_SET_FILE, loadDescriptorSet } from './grpc/grpc-reflection';
import { protoRoot } from './grpc/grpc-options';
import { RequestValidationError, type FieldViolation } from './validation';

/**
 * Flowline's one error model, on REST and gRPC alike (docs/adr/0009-api-contracts.md):
 *
 * - a stable `reason` in UPPER_SNAKE_CASE (the domain code; `order_not_found` and `ORDER_NOT_FOUND`
 *   are the same reason, always sent as the latter) and the `domain` that refused (the service);
 * - gRPC: the status code plus google.rpc.Status in the `grpc-status-details-bin` trailer, holding
 *   google.rpc.ErrorInfo {reason, domain, metadata} and, for bad input, google.rpc.BadRequest with
 *   one field violation per field (proto field paths: `lines[0].quantity`, `meta.request_id`);
 * - REST: RFC 9457 application/problem+json {type, title, status, detail, instance} plus the same
 *   `code`, `domain`, `details` and `errors` (field violations, JSON paths: `lines.0.quantity`).
 *
 * The same mistake gets the same reason on both: an empty order id is INVALID_ARGUMENT/400 with
 * reason VALIDATION_FAILED and the field `order_id` / `orderId` named.
 */

/** Reason of every request refused for bad input (the field violations say which fields). */
export const VALIDATION_FAILED = 'VALIDATION_FAILED';

/** The problem+json media type (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json';

/** gRPC trailer holding the serialized google.rpc.Status. */
export const GRPC_STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Prefix of a problem's `type` URI; the reason follows (`urn:flowline:problem:ORDER_NOT_FOUND`). */
export const PROBLEM_TYPE_PREFIX = 'urn:flowline:problem:';

/** One error, transport-neutral. */
export interface ApiError {
  /** UPPER_SNAKE_CASE domain code. */
  reason: string;
  /** English, developer-facing. */
  message: string;
  httpStatus: number;
  grpcStatus: GrpcStatus;
  /** Structured details of a refusal (`{ orderId, stage }`); strings go to ErrorInfo.metadata. */
  details: Record<string, unknown>;
  violations: FieldViolation[];
  /** Members of a foreign HttpException body kept on the problem (e.g. terminus' `info` / `error`). */
  extra?: Record<string, unknown>;
}

/** `order_not_found`, `order-not-found`, `OrderNotFound` -> `ORDER_NOT_FOUND`. */
export function toReason(code: string): string {
  return code
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

/** The ErrorInfo domain of a service: `order-intake` -> `order-intake.flowline`. */
export function errorDomain(service: string): string {
  return `${service}.flowline`;
}

/** conflict -> 409, not_found -> 404, invalid -> 422, forbidden -> 403. */
export function httpStatusOfDomainError(error: Pick<DomainError, 'kind'>): number {
  switch (error.kind) {
    case 'not_found':
      return 404;
    case 'forbidden':
      return 403;
    case 'invalid':
      return 422;
    default:
      return 409;
  }
}

/** conflict -> FAILED_PRECONDITION, not_found -> NOT_FOUND, invalid -> INVALID_ARGUMENT, forbidden -> PERMISSION_DENIED. */
export function grpcStatusOfDomainError(error: Pick<DomainError, 'kind'>): GrpcStatus {
  switch (error.kind) {
    case 'not_found':
      return GrpcStatus.NOT_FOUND;
    case 'forbidden':
      return GrpcStatus.PERMISSION_DENIED;
    case 'invalid':
      return GrpcStatus.INVALID_ARGUMENT;
    default:
      return GrpcStatus.FAILED_PRECONDITION;
  }
}

const GRPC_OF_HTTP: Record<number, GrpcStatus> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.FAILED_PRECONDITION,
  412: GrpcStatus.FAILED_PRECONDITION,
  413: GrpcStatus.INVALID_ARGUMENT,
  422: GrpcStatus.INVALID_ARGUMENT,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  503: GrpcStatus.UNAVAILABLE,
};

const HTTP_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The transport-neutral error of a refused command, an invalid request or a Nest HttpException. */
export function apiErrorOf(exception: unknown): ApiError | undefined {
  if (isDomainError(exception)) {
    return {
      reason: toReason(exception.code),
      message: exception.message,
      httpStatus: httpStatusOfDomainError(exception),
      grpcStatus: grpcStatusOfDomainError(exception),
      details: exception.details,
      violations: violationsIn(exception.details, exception.message),
    };
  }
  if (exception instanceof RequestValidationError) {
    return { reason: VALIDATION_FAILED, message: exception.message, httpStatus: 400, grpcStatus: GrpcStatus.INVALID_ARGUMENT, details: {}, violations: exception.violations };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const obj = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const message = typeof obj.message === 'string' ? obj.message : Array.isArray(obj.message) ? obj.message.join('; ') : exception.message;
    const code = typeof obj.code === 'string' ? obj.code : (HTTP_TITLES[status] ?? `HTTP_${status}`);
    const details = typeof obj.details === 'object' && obj.details !== null ? (obj.details as Record<string, unknown>) : {};
    const violations = Array.isArray(obj.errors) ? (obj.errors as FieldViolation[]) : [];
    const { statusCode: _statusCode, message: _message, ...extra } = obj;
    return {
      reason: toReason(code),
      message,
      httpStatus: status,
      grpcStatus: GRPC_OF_HTTP[status] ?? (status >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN),
      details,
      violations,
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  }
  return undefined;
}

/**
 * A refusal whose details name one input field (`{ field: 'grandTotal' }`) reports it as a
 * violation too, with the refusal's message (a client that shows `errors[].message` next to the
 * field would otherwise show nothing).
 */
function violationsIn(details: Record<string, unknown>, message: string): FieldViolation[] {
  return typeof details.field === 'string' ? [{ field: details.field, constraint: 'refused', message }] : [];
}

// ---------------------------------------------------------------------------------------------
// REST: RFC 9457 problem details

/** RFC 9457 problem details, with Flowline's extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** The reason (UPPER_SNAKE_CASE), same as gRPC's ErrorInfo.reason. */
  code: string;
  /** The service that refused, same as gRPC's ErrorInfo.domain. */
  domain: string;
  details: Record<string, unknown>;
  /** Field violations (JSON paths), empty unless the input was at fault. */
  errors: FieldViolation[];
  /** Same as `detail`; kept for clients written before problem+json (deprecated). */
  message: string;
}

/** `ORDER_NOT_FOUND` -> `Order not found`. */
function titleOf(reason: string, httpStatus: number): string {
  if (reason === VALIDATION_FAILED) return 'Request validation failed';
  const words = reason.toLowerCase().replace(/_/g, ' ');
  return words ? words[0].toUpperCase() + words.slice(1) : (HTTP_TITLES[httpStatus] ?? 'Error');
}

export function toProblem(error: ApiError, service: string, instance?: string): ProblemDetails {
  return {
    ...error.extra,
    type: `${PROBLEM_TYPE_PREFIX}${error.reason}`,
    title: titleOf(error.reason, error.httpStatus),
    status: error.httpStatus,
    detail: error.message,
    ...(instance ? { instance } : {}),
    code: error.reason,
    domain: errorDomain(service),
    details: error.details,
    errors: error.violations,
    message: error.message,
  };
}

// ---------------------------------------------------------------------------------------------
// gRPC: google.rpc.Status in grpc-status-details-bin

let rpcTypes: { registry: FileRegistry; status: DescMessage; errorInfo: DescMessage; badRequest: DescMessage } | undefined;

/**
 * google.rpc.Status, ErrorInfo and BadRequest as the descriptor set compiles them
 * (proto/google/rpc/*.proto). Loaded once.
 */
export function rpcErrorTypes(root = protoRoot()): NonNullable<typeof rpcTypes> {
  if (rpcTypes) return rpcTypes;
  const path = resolve(root, DESCRIPTOR_SET_FILE);
  if (!existsSync(path)) throw new Error(`${path} missing: run npm run proto:gen`);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: loadDescriptorSet(path) }));
  const get = (name: string) => {
    const m = registry.getMessage(name);
    if (!m) throw new Error(`${name} not in ${path}`);
    return m;
  };
  rpcTypes = { registry, status: get('google.rpc.Status'), errorInfo: get('google.rpc.ErrorInfo'), badRequest: get('google.rpc.BadRequest') };
  return rpcTypes;
}

/** `lines.0.quantity` -> `lines[0].quantity`, `meta.requestId` -> `meta.request_id` (proto field paths). */
export function protoFieldPath(field: string): string {
  return field
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()}`))
    .join('')
    .replace(/^\./, '');
}

/**
 * Longest text of one detail (and of the message) in gRPC trailing metadata. Details echo the
 * request (a window's `from`, a refused id): a 66 KB value made the trailers pass the HTTP/2
 * header list limit (Node's default: 64 KB), and the client saw a protocol error instead of
 * INVALID_ARGUMENT. REST bodies carry them whole.
 */
export const GRPC_DETAIL_MAX_CHARS = 512;
/** Longest x-domain-details JSON; longer details are cut harder, then replaced by {"truncated":true}. */
const GRPC_DETAILS_JSON_MAX = 4096;

/** `text` cut to `max` characters, saying how long it was; never ends on half a surrogate pair. */
export function boundedText(text: string, max = GRPC_DETAIL_MAX_CHARS): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return `${text.slice(0, end)}... (${text.length} characters)`;
}

/**
 * JSON with every character outside printable ASCII as \uXXXX: grpc-js refuses a metadata string
 * value holding anything else (a Chinese SKU in the details threw inside the exception filter).
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function errorInfoMetadata(details: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(details).slice(0, 20)) {
    if (value === undefined || value === null) continue;
    out[boundedText(key, 64)] = boundedText(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

/** Details with long strings anywhere in them cut to `max` (see GRPC_DETAIL_MAX_CHARS). */
function boundedDetails(value: unknown, max: number, depth = 0): unknown {
  if (typeof value === 'string') return boundedText(value, max);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => boundedDetails(v, max, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, 50)
      .map(([k, v]) => [boundedText(k, 64), boundedDetails(v, max, depth + 1)]),
  );
}

/** x-domain-details: ASCII JSON of the details, at most GRPC_DETAILS_JSON_MAX characters. */
function detailsHeader(value: unknown): string {
  for (const max of [GRPC_DETAIL_MAX_CHARS, 128, 32]) {
    const json = asciiJson(boundedDetails(value, max));
    if (json.length <= GRPC_DETAILS_JSON_MAX) return json;
  }
  return '{"truncated":true}';
}

/** The serialized google.rpc.Status of an error. */
export function rpcStatusBytes(error: ApiError, service: string): Uint8Array {
  const t = rpcErrorTypes();
  const details = [anyPack(t.errorInfo, create(t.errorInfo, { reason: error.reason, domain: errorDomain(service), metadata: errorInfoMetadata(error.details) } as never))];
  if (error.violations.length) {
    const fieldViolations = error.violations
      .slice(0, 50)
      .map((v) => ({ field: boundedText(protoFieldPath(v.field), 256), description: boundedText(v.message || v.constraint, 256), reason: toReason(v.constraint) }));
    details.push(anyPack(t.badRequest, create(t.badRequest, { fieldViolations } as never)));
  }
  return toBinary(t.status, create(t.status, { code: error.grpcStatus, message: boundedText(error.message, 2 * GRPC_DETAIL_MAX_CHARS), details } as never));
}

/** Trailing metadata keys kept for clients written before google.rpc.Status (same reason, same casing). */
export const GRPC_DOMAIN_CODE_KEY = 'x-domain-code';
export const GRPC_DOMAIN_DETAILS_KEY = 'x-domain-details';

/** The error object grpc-js turns into a status: code, details text and trailing metadata. */
export interface GrpcErrorPayload {
  code: GrpcStatus;
  message: string;
  details: string;
  metadata: Metadata;
}

export function toGrpcPayload(error: ApiError, service: string): GrpcErrorPayload {
  const metadata = new Metadata();
  metadata.set(GRPC_STATUS_DETAILS_KEY, Buffer.from(rpcStatusBytes(error, service)));
  metadata.set(GRPC_DOMAIN_CODE_KEY, error.reason);
  metadata.set(GRPC_DOMAIN_DETAILS_KEY, detailsHeader(error.reason === VALIDATION_FAILED ? error.violations : error.details));
  const message = boundedText(error.message, 2 * GRPC_DETAIL_MAX_CHARS);
  return { code: error.grpcStatus, message, details: message, metadata };
}

/** A decoded google.rpc.Status (for clients and tests). */
export interface DecodedRpcStatus {
  code: number;
  message: string;
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  fieldViolations: { field: string; description: string; reason: string }[];
}

/** Reads google.rpc.Status from a gRPC error's trailing metadata; undefined when absent. */
export function decodeRpcStatus(metadata: Metadata | undefined): DecodedRpcStatus | undefined {
  const [raw] = metadata?.get(GRPC_STATUS_DETAILS_KEY) ?? [];
  if (!raw || typeof raw === 'string') return undefined;
  const t = rpcErrorTypes();
  const status = fromBinary(t.status, raw) as unknown as { code: number; message: string; details: Parameters<typeof anyUnpack>[0][] };
  const out: DecodedRpcStatus = { code: status.code, message: status.message, fieldViolations: [] };
  for (const any of status.details) {
    const message = anyUnpack(any, t.registry);
    if (!message) continue;
    const json = toJson(message.$typeName === 'google.rpc.ErrorInfo' ? t.errorInfo : t.badRequest, message as never, { alwaysEmitImplicit: true }) as Record<string, JsonValue>;
    if (message.$typeName === 'google.rpc.ErrorInfo') out.errorInfo = json as never;
    else if (message.$typeName === 'google.rpc.BadRequest') out.fieldViolations = (json.fieldViolations as never) ?? [];
  }
  return out;
}

/** For callers that hold a DomainError and want its gRPC form directly (process managers, tests). */
export function toGrpcError(error: unknown, service = process.env.SERVICE_NAME ?? 'flowline'): GrpcErrorPayload | undefined {
  const api = apiErrorOf(error);
  return api ? toGrpcPayload(api, service) : undefined;
}
