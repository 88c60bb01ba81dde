import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../envelope';
import { ORDER_EVENT_TYPES } from '../orders/order.events';
import { Topics } from '../topics';
import { EnvelopeError, isEnvelopeError } from './envelope-error';
import { createEventRegistry, upcaster, type ContractDefinition } from './event-registry';
import { BOUNDED_CONTEXTS, contractRegistry, decodeEnvelope, isContractType, upcast } from './flowline-contracts';

/** A valid OrderPaid envelope; `over` replaces envelope fields (undefined deletes one). */
function orderPaid(over: Record<string, unknown> = {}): Record<string, unknown> {
  const env: Record<string, unknown> = {
    eventId: '01JDGZ7A4K2M9P0000000PAID1',
    type: 'OrderPaid',
    schemaVersion: 1,
    streamId: 'order-01JDGZ6M3V8Q0000000000ORD1',
    streamPosition: 1,
    occurredAt: '2025-11-25T08:00:00.000Z',
    correlationId: 'req-7f3a',
    causationId: 'cmd-RecordPayment-01JDGZ7A4K',
    actor: { kind: 'user', id: 'fin-chen', role: 'finance' },
    data: { orderId: '01JDGZ6M3V8Q0000000000ORD1', amount: 26000, currency: 'CNY', paidAt: '2025-11-25T08:00:00.000Z' },
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function refusal(fn: () => unknown): EnvelopeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EnvelopeError) return e;
    throw e;
  }
  throw new Error('expected an EnvelopeError, nothing was thrown');
}

describe('the Flowline contract registry', () => {
  it('knows every order integration event at v1 on orders.events.v1, keyed by orderId', () => {
    const orders = contractRegistry.types({ context: 'orders', kind: 'event' });
    expect(orders.map((t) => t.type).sort()).toEqual([...ORDER_EVENT_TYPES].sort());
    for (const t of orders) expect(t).toMatchObject({ kind: 'event', schemaVersion: 1, firstVersion: 1, topic: Topics.orderEvents, partitionKey: 'orderId' });
    // The one command to order-intake travels on its private topic.
    expect(contractRegistry.types({ context: 'orders', kind: 'command' })).toMatchObject([{ type: 'ApplyOrderChange', topic: Topics.orderCommands, partitionKey: 'orderId' }]);
  });

  it('lists events and commands of every context on their own topics', () => {
    const byTopic = (context: string, kind: 'event' | 'command') =>
      [...new Set(contractRegistry.types({ context, kind }).map((t) => t.topic))];
    expect(byTopic('inventory', 'event')).toEqual([Topics.inventoryEvents, Topics.inventoryStock]);
    // ADR 0023: the SKU-keyed stock facts on their own topic, the order-keyed outcomes on inventory.events.v1.
    for (const t of contractRegistry.types({ context: 'inventory', kind: 'event' })) expect(t.topic, t.type).toBe(t.partitionKey === 'sku' ? Topics.inventoryStock : Topics.inventoryEvents);
    expect(byTopic('inventory', 'command')).toEqual([Topics.inventoryCommands]);
    expect(byTopic('approval', 'event')).toEqual([Topics.approvalEvents]);
    expect(byTopic('approval', 'command')).toEqual([Topics.approvalCommands]);
    expect(byTopic('fulfillment', 'event')).toEqual([Topics.fulfillmentEvents]);
    expect(byTopic('fulfillment', 'command')).toEqual([Topics.fulfillmentCommands]);
    expect(contractRegistry.types({ context: 'inventory', kind: 'command' }).map((t) => t.type)).toEqual(['ReserveStock', 'ReleaseStock', 'CommitStock', 'ReleaseStockLines']);
    expect(contractRegistry.types({ context: 'approval', kind: 'command' }).map((t) => t.type)).toEqual(['RequestApproval', 'WithdrawApproval']);
    expect(contractRegistry.types({ context: 'fulfillment', kind: 'command' }).map((t) => t.type)).toEqual(['StartFulfillment', 'StopFulfillment', 'HoldFulfillment', 'ResumeFulfillment']);
    const contexts = new Set(contractRegistry.types().map((t) => t.context));
    expect([...contexts].sort()).toEqual([...BOUNDED_CONTEXTS].sort());
    expect(contractRegistry.types().every((t) => t.schemaVersion === 1)).toBe(true);
  });

  it('keys stock levels and ATP by SKU and reservation outcomes by order', () => {
    expect(contractRegistry.info('StockLevelChanged')?.partitionKey).toBe('sku');
    expect(contractRegistry.info('AvailableToPromiseChanged')?.partitionKey).toBe('sku');
    expect(contractRegistry.info('StockReserved')?.partitionKey).toBe('orderId');
    expect(contractRegistry.info('StockShortage')?.partitionKey).toBe('orderId');
  });

  it('answers isContractType for known and unknown names', () => {
    expect(isContractType('ReserveStock')).toBe(true);
    expect(isContractType('OrderTeleported')).toBe(false);
    expect(refusal(() => contractRegistry.currentVersion('OrderTeleported')).code).toBe('unknown_type');
  });
});

describe('decodeEnvelope', () => {
  it('reads a valid envelope from a string and from UTF-8 bytes (a Kafka message value)', () => {
    const env = orderPaid({ data: { orderId: 'o-1', amount: 1999, currency: 'CNY', paidAt: '2025-11-25T16:00:00+08:00', paymentRef: '支付宝-2025112522001' } });
    expect(decodeEnvelope(JSON.stringify(env))).toEqual(env);
    expect(decodeEnvelope(Buffer.from(JSON.stringify(env), 'utf8'))).toEqual(env);
    expect(decodeEnvelope(new TextEncoder().encode(JSON.stringify(env)))).toEqual(env);
  });

  it('narrows data by type', () => {
    const env = decodeEnvelope(JSON.stringify(orderPaid()));
    if (env.type !== 'OrderPaid') throw new Error(`unexpected ${env.type}`);
    const amount: number = env.data.amount;
    expect(amount).toBe(26000);
  });

  it('refuses bytes that are not JSON, or not UTF-8', () => {
    expect(refusal(() => decodeEnvelope('{"eventId": ')).code).toBe('invalid_json');
    expect(refusal(() => decodeEnvelope(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))).code).toBe('invalid_json');
    expect(refusal(() => decodeEnvelope('')).code).toBe('invalid_json');
  });

  it('refuses JSON that is not an envelope object', () => {
    for (const json of ['null', '[]', '"OrderPaid"', '42']) {
      const e = refusal(() => decodeEnvelope(json));
      expect(e.code, json).toBe('invalid_envelope');
    }
  });

  it.each([
    ['eventId', undefined],
    ['eventId', ''],
    ['type', 7],
    ['streamId', null],
    ['correlationId', undefined],
    ['schemaVersion', '1'],
    ['schemaVersion', 0],
    ['schemaVersion', 1.5],
    ['streamPosition', -1],
    ['streamPosition', '3'],
    ['streamPosition', undefined],
    ['occurredAt', '2025-11-25 08:00:00'],
    ['occurredAt', '2025-11-25T08:00:00'],
    ['occurredAt', '2025-13-45T08:00:00Z'],
    ['occurredAt', 1764057600000],
    ['causationId', 42],
    ['actor', { kind: 'robot', id: 'x' }],
    ['actor', { kind: 'user' }],
    ['data', undefined],
    ['data', null],
    ['data', [1, 2]],
    ['data', 'paid'],
  ])('refuses an envelope whose %s is %j, naming the field', (field, value) => {
    const e = refusal(() => decodeEnvelope(JSON.stringify(orderPaid({ [field]: value }))));
    expect(e.code).toBe('invalid_envelope');
    expect(e.message).toContain(`${field} must be`);
    expect(isEnvelopeError(e)).toBe(true);
  });

  it('accepts occurredAt with an offset, reads an absent causationId as null and drops unknown envelope fields', () => {
    const env = decodeEnvelope(JSON.stringify(orderPaid({ occurredAt: '2025-11-25T16:00:00+08:00', causationId: undefined, actor: undefined, traceparent: '00-abc', extra: 1 })));
    expect(env.occurredAt).toBe('2025-11-25T16:00:00+08:00');
    expect(env.causationId).toBeNull();
    expect(Object.keys(env).sort()).toEqual(['causationId', 'correlationId', 'data', 'eventId', 'occurredAt', 'schemaVersion', 'streamId', 'streamPosition', 'type']);
  });

  it('refuses a type the registry does not know', () => {
    const e = refusal(() => decodeEnvelope(JSON.stringify(orderPaid({ type: 'OrderTeleported' }))));
    expect(e).toMatchObject({ code: 'unknown_type', type: 'OrderTeleported' });
    expect(e.message).toContain('OrderTeleported');
  });

  it('refuses a version newer than this build reads', () => {
    const e = refusal(() => decodeEnvelope(JSON.stringify(orderPaid({ schemaVersion: 2 }))));
    expect(e).toMatchObject({ code: 'unknown_version', type: 'OrderPaid', schemaVersion: 2 });
    expect(e.message).toMatch(/OrderPaid v2 is newer than this build reads \(current v1\)/);
  });

  it('upcast returns a current envelope unchanged', () => {
    const env = orderPaid() as unknown as EventEnvelope;
    expect(upcast(env)).toBe(env);
  });
});

// A made-up history, to prove the chain: a parcel weight first sent as a yuan-style decimal
// string of kilograms (v1), then integer grams (v2), then grams with the scale that weighed it
// and the time, defaulted from the envelope (v3). Test-only: the published contracts are all v1.
type ParcelV1 = { shipmentId: string; weightKg: string };
type ParcelV2 = { shipmentId: string; weightGrams: number };
type ParcelV3 = { shipmentId: string; weightGrams: number; scaleId: string; weighedAt: string };

const parcelWeighed = (over: Partial<ContractDefinition> = {}): ContractDefinition => ({
  type: 'ParcelWeighed',
  context: 'fulfillment',
  kind: 'event',
  schemaVersion: 3,
  upcasters: [
    upcaster<ParcelV2, ParcelV3>(2, (d, env) => ({ ...d, scaleId: 'unknown', weighedAt: env.occurredAt })),
    upcaster<ParcelV1, ParcelV2>(1, (d) => {
      if (!/^\d+(\.\d{1,3})?$/.test(d.weightKg)) throw new Error(`weightKg ${d.weightKg} is not a decimal`);
      const [kg, frac = ''] = d.weightKg.split('.');
      return { shipmentId: d.shipmentId, weightGrams: Number(kg) * 1000 + Number(frac.padEnd(3, '0')) };
    }),
  ],
  ...over,
});

function parcel(schemaVersion: number, data: unknown): EventEnvelope {
  return {
    eventId: `evt-parcel-v${schemaVersion}`,
    type: 'ParcelWeighed',
    schemaVersion,
    streamId: 'shipment-SHP-1',
    streamPosition: 3,
    occurredAt: '2025-11-26T02:30:00.000Z',
    correlationId: 'corr-1',
    causationId: null,
    data,
  };
}

describe('upcasting through a chain (test-only registry)', () => {
  const registry = createEventRegistry([parcelWeighed()]);

  it('v1 -> v3: kilograms as a string become grams, then scale and time are added', () => {
    const v1 = parcel(1, { shipmentId: 'SHP-1', weightKg: '1.25' } satisfies ParcelV1);
    const before = structuredClone(v1);
    const out = registry.upcast(v1);
    expect(out).toEqual({ ...v1, schemaVersion: 3, data: { shipmentId: 'SHP-1', weightGrams: 1250, scaleId: 'unknown', weighedAt: '2025-11-26T02:30:00.000Z' } satisfies ParcelV3 });
    expect(v1).toEqual(before);
  });

  it('v2 -> v3: only the last step runs', () => {
    const out = registry.upcast(parcel(2, { shipmentId: 'SHP-1', weightGrams: 980 } satisfies ParcelV2));
    expect(out.schemaVersion).toBe(3);
    expect(out.data).toEqual({ shipmentId: 'SHP-1', weightGrams: 980, scaleId: 'unknown', weighedAt: '2025-11-26T02:30:00.000Z' });
  });

  it('v3: current, returned as is', () => {
    const v3 = parcel(3, { shipmentId: 'SHP-1', weightGrams: 980, scaleId: 'WH-HZ-01-S2', weighedAt: '2025-11-26T02:29:58.000Z' } satisfies ParcelV3);
    expect(registry.upcast(v3)).toBe(v3);
  });

  it('v4: newer than the registry knows, refused', () => {
    expect(refusal(() => registry.upcast(parcel(4, {})))).toMatchObject({ code: 'unknown_version', schemaVersion: 4 });
  });

  it('decode parses, validates and upcasts in one call', () => {
    const out = registry.decode(JSON.stringify(parcel(1, { shipmentId: 'SHP-2', weightKg: '0.4' })));
    expect(out).toMatchObject({ schemaVersion: 3, data: { weightGrams: 400 } });
  });

  it('hands each step the envelope at the version it lifts from', () => {
    const seen: number[] = [];
    const r = createEventRegistry([
      {
        type: 'Ticked',
        context: 'test',
        kind: 'event',
        schemaVersion: 3,
        upcasters: [1, 2].map((v) => upcaster<{ n: number }, { n: number }>(v, (d, env) => (seen.push(env.schemaVersion), { n: d.n + 1 }))),
      },
    ]);
    expect(r.upcast({ ...parcel(1, { n: 0 }), type: 'Ticked' }).data).toEqual({ n: 2 });
    expect(seen).toEqual([1, 2]);
  });

  it('an upcaster that throws is reported as upcast_failed with the cause', () => {
    const e = refusal(() => registry.upcast(parcel(1, { shipmentId: 'SHP-1', weightKg: 'heavy' })));
    expect(e.code).toBe('upcast_failed');
    expect(e.message).toContain('v1 -> v2');
    expect((e.cause as Error).message).toContain('weightKg heavy');
  });

  it('a version older than firstVersion is refused', () => {
    const r = createEventRegistry([parcelWeighed({ firstVersion: 2, upcasters: parcelWeighed().upcasters?.filter((u) => u.fromVersion === 2) })]);
    expect(refusal(() => r.upcast(parcel(1, { shipmentId: 'SHP-1', weightKg: '1' })))).toMatchObject({ code: 'unknown_version', schemaVersion: 1 });
    expect(r.upcast(parcel(2, { shipmentId: 'SHP-1', weightGrams: 1 })).schemaVersion).toBe(3);
  });

  it('instances are independent of each other and of the Flowline registry', () => {
    expect(contractRegistry.has('ParcelWeighed')).toBe(false);
    expect(createEventRegistry().has('ParcelWeighed')).toBe(false);
    expect(createEventRegistry().register(parcelWeighed()).currentVersion('ParcelWeighed')).toBe(3);
  });
});

describe('registration refuses a registry that could not lift what it accepts', () => {
  it.each<[string, Partial<ContractDefinition>, RegExp]>([
    ['a missing step', { upcasters: parcelWeighed().upcasters?.filter((u) => u.fromVersion !== 1) }, /no upcaster from v1 to v2/],
    ['no upcasters at all for v3', { upcasters: [] }, /no upcaster from v1 to v2/],
    ['an upcaster from the current version', { upcasters: [...(parcelWeighed().upcasters ?? []), upcaster(3, (d) => d)] }, /outside v1\.\.v2/],
    ['two upcasters from one version', { upcasters: [...(parcelWeighed().upcasters ?? []), upcaster(2, (d) => d)] }, /two upcasters from v2/],
    ['a version of 0', { schemaVersion: 0, upcasters: [] }, /positive integer/],
    ['firstVersion above the current one', { firstVersion: 4 }, /firstVersion/],
  ])('%s', (_name, over, message) => {
    expect(() => createEventRegistry([parcelWeighed(over)])).toThrow(message);
  });

  it('the same type twice', () => {
    expect(() => createEventRegistry([parcelWeighed(), parcelWeighed()])).toThrow(/registered twice/);
  });
});
