import type { Actor, EventEnvelope } from '../envelope';
import { EnvelopeError } from './envelope-error';

/** An integration event (past tense, on `<context>.events.v1`) or a command (imperative, on `<context>.commands.v1`). */
export type ContractKind = 'event' | 'command';

/**
 * Lifts the payload of one type from `fromVersion` to `fromVersion + 1`.
 * Pure: returns a new payload, never mutates `data`, reads no clock. Defaults it must invent for
 * a new field come from the envelope (e.g. `occurredAt`), never from "now".
 */
export interface Upcaster<TFrom = unknown, TTo = unknown> {
  fromVersion: number;
  upcast(data: TFrom, envelope: Readonly<EventEnvelope<TFrom>>): TTo;
}

/** Typed shorthand for an {@link Upcaster} (the registry stores them untyped). */
export function upcaster<TFrom, TTo>(fromVersion: number, upcast: (data: TFrom, envelope: Readonly<EventEnvelope<TFrom>>) => TTo): Upcaster {
  return { fromVersion, upcast: upcast as Upcaster['upcast'] };
}

/** One event or command type as registered. */
export interface ContractDefinition {
  /** `OrderPlaced`, `ReserveStock`, ... unique across the registry. */
  type: string;
  /** Bounded context that publishes it (`orders`, `inventory`, ...). */
  context: string;
  kind: ContractKind;
  /** The current schema version: what producers write and what {@link EventRegistry.upcast} returns. */
  schemaVersion: number;
  /** Oldest version still read (default 1). Older messages are refused as `unknown_version`. */
  firstVersion?: number;
  /** Logical topic it travels on (`orders.events.v1`). */
  topic?: string;
  /** Payload field whose value is the Kafka key (`orderId`, or `sku` where stock order matters). */
  partitionKey?: string;
  /** One upcaster per step, from `firstVersion` to `schemaVersion - 1`: v1 -> v2 -> ... -> current. */
  upcasters?: readonly Upcaster[];
}

/** What the registry knows about one type. */
export interface ContractTypeInfo {
  readonly type: string;
  readonly context: string;
  readonly kind: ContractKind;
  readonly schemaVersion: number;
  readonly firstVersion: number;
  readonly topic?: string;
  readonly partitionKey?: string;
}

interface Entry {
  info: ContractTypeInfo;
  /** Index `v - firstVersion` lifts v to v + 1. */
  steps: Upcaster[];
}

/** Every {@link Actor} kind an envelope may carry (consumers refuse others). */
export const ACTOR_KINDS: readonly Actor['kind'][] = ['user', 'service', 'customer', 'channel'];
/** ISO-8601 date-time with an explicit zone: a time without one means different instants to different readers. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Every event and command type a reader understands, with its current schema version and the
 * upcasters that lift older versions to it. Build one with {@link createEventRegistry}; the
 * Flowline contracts are in `contractRegistry` (flowline-contracts.ts).
 *
 * Versioning rule (STYLE.md): an additive optional field keeps the version; anything else bumps
 * it and registers an upcaster from the previous version, with a test per version. Readers only
 * ever handle the current version: they call {@link upcast} (or {@link decode}) first.
 */
export class EventRegistry {
  private readonly entries = new Map<string, Entry>();

  /**
   * Adds a type. Refuses (throws) a duplicate type, a version that is not a positive integer,
   * and an upcaster chain that is not exactly one step per version from `firstVersion` to the
   * current one, so a registry that was built can always lift what it accepts.
   */
  register(definition: ContractDefinition): this {
    const { type, context, kind, schemaVersion, topic, partitionKey } = definition;
    const firstVersion = definition.firstVersion ?? 1;
    if (typeof type !== 'string' || type === '') throw new Error('a contract type needs a name');
    if (this.entries.has(type)) throw new Error(`contract type ${type} is registered twice`);
    if (!isPositiveInt(schemaVersion)) throw new Error(`${type}: schemaVersion must be a positive integer, got ${String(schemaVersion)}`);
    if (!isPositiveInt(firstVersion) || firstVersion > schemaVersion) {
      throw new Error(`${type}: firstVersion must be an integer from 1 to schemaVersion (${schemaVersion}), got ${String(firstVersion)}`);
    }
    const byVersion = new Map<number, Upcaster>();
    for (const u of definition.upcasters ?? []) {
      if (!Number.isInteger(u.fromVersion) || u.fromVersion < firstVersion || u.fromVersion >= schemaVersion) {
        throw new Error(`${type}: an upcaster from v${u.fromVersion} is outside v${firstVersion}..v${schemaVersion - 1}`);
      }
      if (byVersion.has(u.fromVersion)) throw new Error(`${type}: two upcasters from v${u.fromVersion}`);
      byVersion.set(u.fromVersion, u);
    }
    const steps: Upcaster[] = [];
    for (let v = firstVersion; v < schemaVersion; v++) {
      const step = byVersion.get(v);
      if (!step) throw new Error(`${type}: no upcaster from v${v} to v${v + 1} (current v${schemaVersion})`);
      steps.push(step);
    }
    const info: ContractTypeInfo = Object.freeze({
      type,
      context,
      kind,
      schemaVersion,
      firstVersion,
      ...(topic !== undefined ? { topic } : {}),
      ...(partitionKey !== undefined ? { partitionKey } : {}),
    });
    this.entries.set(type, { info, steps });
    return this;
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  /** What the registry knows about `type`, or undefined. */
  info(type: string): ContractTypeInfo | undefined {
    return this.entries.get(type)?.info;
  }

  /** Current schema version of `type`; throws `unknown_type` for a type it does not know. */
  currentVersion(type: string): number {
    return this.entry(type).info.schemaVersion;
  }

  /** Every registered type (in registration order), optionally of one context and/or kind. */
  types(filter: { context?: string; kind?: ContractKind } = {}): ContractTypeInfo[] {
    return [...this.entries.values()]
      .map((e) => e.info)
      .filter((i) => (filter.context === undefined || i.context === filter.context) && (filter.kind === undefined || i.kind === filter.kind));
  }

  /**
   * Lifts an envelope to its type's current schema version through the registered chain
   * (vN -> vN+1 -> ... -> current). An envelope already current is returned as is (same object);
   * otherwise a new envelope with the new `schemaVersion` and `data`; the input is not changed.
   * Throws {@link EnvelopeError}: `unknown_type`, `unknown_version` (newer than this build knows,
   * or older than `firstVersion`), `upcast_failed` (an upcaster threw; the cause is attached).
   */
  upcast<T extends EventEnvelope>(envelope: T): T {
    const { info, steps } = this.entry(envelope.type);
    const from = envelope.schemaVersion;
    if (from === info.schemaVersion) return envelope;
    if (!Number.isInteger(from) || from > info.schemaVersion) {
      throw new EnvelopeError(
        'unknown_version',
        `${envelope.type} v${String(from)} is newer than this build reads (current v${info.schemaVersion}); deploy the reader's new version first`,
        envelope.type,
        from,
      );
    }
    if (from < info.firstVersion) {
      throw new EnvelopeError(
        'unknown_version',
        `${envelope.type} v${from} is no longer read (oldest v${info.firstVersion}, current v${info.schemaVersion})`,
        envelope.type,
        from,
      );
    }
    let data: unknown = envelope.data;
    for (let v = from; v < info.schemaVersion; v++) {
      try {
        data = steps[v - info.firstVersion].upcast(data, { ...envelope, schemaVersion: v, data });
      } catch (e) {
        throw new EnvelopeError(
          'upcast_failed',
          `${envelope.type} ${envelope.eventId}: upcasting v${v} -> v${v + 1} failed: ${e instanceof Error ? e.message : String(e)}`,
          envelope.type,
          from,
          { cause: e },
        );
      }
    }
    return { ...envelope, schemaVersion: info.schemaVersion, data } as T;
  }

  /**
   * Checks that `value` (already parsed JSON) is an envelope: `eventId`, `type`, `streamId`,
   * `correlationId` non-empty strings; `schemaVersion` a positive integer; `streamPosition` a
   * non-negative integer; `occurredAt` an ISO-8601 date-time with a zone; `causationId` a string
   * or null (absent reads as null); `actor` absent or `{ kind, id, role?, name? }`; `data` a JSON
   * object. Returns a new envelope with exactly those fields (anything else is dropped: readers
   * ignore what they do not know). Does not look at the registry: see {@link decode}.
   */
  validate(value: unknown): EventEnvelope {
    if (!isObject(value)) throw invalid(`an envelope is a JSON object, got ${shown(value)}`);
    const type = value.type;
    const fail = (field: string, expected: string): never => {
      throw new EnvelopeError(
        'invalid_envelope',
        `envelope${typeof value.eventId === 'string' ? ` ${value.eventId}` : ''}${typeof type === 'string' ? ` (${type})` : ''}: ${field} must be ${expected}, got ${shown(value[field])}`,
        typeof type === 'string' ? type : undefined,
        typeof value.schemaVersion === 'number' ? value.schemaVersion : undefined,
      );
    };
    for (const field of ['eventId', 'type', 'streamId', 'correlationId'] as const) {
      if (typeof value[field] !== 'string' || value[field] === '') fail(field, 'a non-empty string');
    }
    if (!isPositiveInt(value.schemaVersion)) fail('schemaVersion', 'a positive integer');
    if (!Number.isSafeInteger(value.streamPosition) || (value.streamPosition as number) < 0) fail('streamPosition', 'a non-negative integer');
    if (typeof value.occurredAt !== 'string' || !ISO_DATE_TIME.test(value.occurredAt) || !Number.isFinite(Date.parse(value.occurredAt))) {
      fail('occurredAt', 'an ISO-8601 date-time with a zone (e.g. 2025-11-25T08:00:00.000Z)');
    }
    const causationId = value.causationId ?? null;
    if (causationId !== null && (typeof causationId !== 'string' || causationId === '')) fail('causationId', 'a non-empty string or null');
    if (value.actor !== undefined && !isActor(value.actor)) fail('actor', `{ kind: ${ACTOR_KINDS.join(' | ')}, id: string, role?: string, name?: string }`);
    if (!isObject(value.data)) fail('data', 'a JSON object');
    return {
      eventId: value.eventId as string,
      type: value.type as string,
      schemaVersion: value.schemaVersion as number,
      streamId: value.streamId as string,
      streamPosition: value.streamPosition as number,
      occurredAt: value.occurredAt as string,
      correlationId: value.correlationId as string,
      causationId: causationId as string | null,
      ...(value.actor !== undefined ? { actor: value.actor as Actor } : {}),
      data: value.data,
    };
  }

  /**
   * Reads a message value or fixture: parses the JSON (string or UTF-8 bytes, e.g. a Kafka
   * message's Buffer), {@link validate}s the envelope and {@link upcast}s it to the current
   * version. Throws {@link EnvelopeError} (`invalid_json`, `invalid_envelope`, `unknown_type`,
   * `unknown_version`, `upcast_failed`).
   */
  decode(json: string | Uint8Array): EventEnvelope {
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true }).decode(json));
    } catch (e) {
      throw new EnvelopeError('invalid_json', `envelope is not JSON: ${e instanceof Error ? e.message : String(e)}`, undefined, undefined, { cause: e });
    }
    return this.upcast(this.validate(parsed));
  }

  private entry(type: string): Entry {
    const entry = this.entries.get(type);
    if (!entry) throw new EnvelopeError('unknown_type', `unknown contract type ${JSON.stringify(type)}: not in the registry`, type);
    return entry;
  }
}

/**
 * A registry holding `definitions` (none by default; add more with `register`). Independent of
 * every other instance: tests build their own with made-up versions and upcasters.
 */
export function createEventRegistry(definitions: readonly ContractDefinition[] = []): EventRegistry {
  const registry = new EventRegistry();
  for (const d of definitions) registry.register(d);
  return registry;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositiveInt(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 1;
}

function isActor(v: unknown): v is Actor {
  if (!isObject(v)) return false;
  if (!ACTOR_KINDS.includes(v.kind as Actor['kind'])) return false;
  if (typeof v.id !== 'string' || v.id === '') return false;
  if (v.role !== undefined && typeof v.role !== 'string') return false;
  if (v.name !== undefined && typeof v.name !== 'string') return false;
  return true;
}

function invalid(message: string): EnvelopeError {
  return new EnvelopeError('invalid_envelope', message);
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
