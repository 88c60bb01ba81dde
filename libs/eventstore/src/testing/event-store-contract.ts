import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  comparePositions,
  type EventMetadata,
  type EventStore,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
  START,
  WrongExpectedVersion,
} from '../port';

/**
 * The contract every EventStore adapter passes. Test-only: it imports vitest, so it is not
 * exported from the package index; import it from this file.
 *
 * Tests share one store per suite and stay independent by writing to streams (and event types)
 * whose names carry a fresh random prefix, so the suite also runs against a store that already
 * holds other data (EventStoreDB).
 */
export interface EventStoreContractFixture {
  store: EventStore;
  /** Closes the store and drops whatever the factory created. */
  dispose(): Promise<void>;
}

export function eventStoreContract(name: string, factory: () => Promise<EventStoreContractFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreContractFixture | undefined;
    const store = (): EventStore => {
      if (!fixture) throw new Error('event store fixture not created');
      return fixture.store;
    };

    beforeAll(async () => {
      fixture = await factory();
    });
    afterAll(async () => {
      await fixture?.dispose();
    });

    describe('append and read', () => {
      it('reads back appended events in order with type, data, metadata and 0-based revisions', async () => {
        const s = uniqueStream('order');
        const meta = metadata({ actor: { kind: 'user', id: 'u-1', role: 'customer_service', name: '王芳' } });
        const result = await store().appendToStream(
          s,
          [
            event('OrderPlaced', { orderId: 'o-1', total: { amount: 1999, currency: 'CNY' }, lines: [{ sku: 'A', qty: 2 }] }, meta),
            event('PaymentConfirmed', { orderId: 'o-1', note: '已支付' }, meta, 2),
          ],
          { expectedRevision: 'no_stream' },
        );
        expect(result.nextExpectedRevision).toBe(1);

        const read = await store().readStream(s);
        expect(read.map((e) => [e.type, e.streamPosition, e.streamId])).toEqual([
          ['OrderPlaced', 0, s],
          ['PaymentConfirmed', 1, s],
        ]);
        expect(read[0].data).toEqual({ orderId: 'o-1', total: { amount: 1999, currency: 'CNY' }, lines: [{ sku: 'A', qty: 2 }] });
        expect(read[1].data).toEqual({ orderId: 'o-1', note: '已支付' });
        expect(read[0].schemaVersion).toBe(1);
        expect(read[1].schemaVersion).toBe(2);
        expect(read[0].metadata).toMatchObject(meta);
        expect(comparePositions(read[1].position, result.position)).toBe(0);
        expect(comparePositions(read[0].position, read[1].position)).toBeLessThan(0);
      });

      it('continues revisions across appends and returns the last one as nextExpectedRevision', async () => {
        const s = uniqueStream('order');
        const r1 = await store().appendToStream(s, [event('A'), event('B')]);
        const r2 = await store().appendToStream(s, [event('C')], { expectedRevision: r1.nextExpectedRevision });
        expect([r1.nextExpectedRevision, r2.nextExpectedRevision]).toEqual([1, 2]);
        expect(comparePositions(r1.position, r2.position)).toBeLessThan(0);
        expect((await store().readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it('rejects an empty batch', async () => {
        await expect(store().appendToStream(uniqueStream('order'), [])).rejects.toThrow();
      });
    });

    describe('expected revision', () => {
      it('no_stream succeeds on a new stream and throws WrongExpectedVersion once it exists', async () => {
        const s = uniqueStream('order');
        await store().appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
        const error = await store()
          .appendToStream(s, [event('B')], { expectedRevision: 'no_stream' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersion);
        expect(error).toMatchObject({ streamId: s, expected: 'no_stream', actual: 0 });
      });

      it('stream_exists throws WrongExpectedVersion on a missing stream and succeeds on an existing one', async () => {
        const s = uniqueStream('order');
        const error = await store()
          .appendToStream(s, [event('A')], { expectedRevision: 'stream_exists' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersion);
        expect(error).toMatchObject({ streamId: s, expected: 'stream_exists', actual: 'no_stream' });
        await store().appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
        const r = await store().appendToStream(s, [event('B')], { expectedRevision: 'stream_exists' });
        expect(r.nextExpectedRevision).toBe(1);
      });

      it('any appends whatever the state of the stream (also the default)', async () => {
        const s = uniqueStream('order');
        await store().appendToStream(s, [event('A')], { expectedRevision: 'any' });
        await store().appendToStream(s, [event('B')], { expectedRevision: 'any' });
        const r = await store().appendToStream(s, [event('C')]);
        expect(r.nextExpectedRevision).toBe(2);
      });

      it('an exact revision succeeds when it is the last revision and fails with the actual one when stale', async () => {
        const s = uniqueStream('order');
        await store().appendToStream(s, [event('A'), event('B')], { expectedRevision: 'no_stream' });
        const stale = await store()
          .appendToStream(s, [event('C')], { expectedRevision: 0 })
          .catch((e: unknown) => e);
        expect(stale).toBeInstanceOf(WrongExpectedVersion);
        expect(stale).toMatchObject({ streamId: s, expected: 0, actual: 1 });
        const ok = await store().appendToStream(s, [event('C')], { expectedRevision: 1 });
        expect(ok.nextExpectedRevision).toBe(2);
        expect(await store().readStream(s)).toHaveLength(3);
      });

      it('an exact revision on a missing stream throws WrongExpectedVersion with actual no_stream', async () => {
        const s = uniqueStream('order');
        const error = await store()
          .appendToStream(s, [event('A')], { expectedRevision: 0 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersion);
        expect(error).toMatchObject({ actual: 'no_stream' });
        expect(await store().readStream(s)).toEqual([]);
      });

      it('of two concurrent appenders with the same expected revision exactly one wins, every time', async () => {
        const s = uniqueStream('order');
        let revision = (await store().appendToStream(s, [event('Opened')], { expectedRevision: 'no_stream' })).nextExpectedRevision;
        for (let round = 0; round < 10; round++) {
          const outcomes = await Promise.allSettled([
            store().appendToStream(s, [event('ByA'), event('ByA')], { expectedRevision: revision }),
            store().appendToStream(s, [event('ByB')], { expectedRevision: revision }),
          ]);
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0].reason).toBeInstanceOf(WrongExpectedVersion);
          revision = (won[0] as PromiseFulfilledResult<{ nextExpectedRevision: number }>).value.nextExpectedRevision;
        }
        const events = await store().readStream(s);
        expect(events.map((e) => e.streamPosition)).toEqual(events.map((_, i) => i));
        expect(events[events.length - 1].streamPosition).toBe(revision);
        // The loser wrote nothing: a batch is all or nothing.
        const byA = events.filter((e) => e.type === 'ByA').length;
        expect(byA % 2).toBe(0);
        expect(byA / 2 + events.filter((e) => e.type === 'ByB').length).toBe(10);
      });
    });

    describe('idempotent append', () => {
      it('appending the same event ids to the same stream again is a no-op returning the same result', async () => {
        const s = uniqueStream('order');
        const batch = [event('A'), event('B')];
        const first = await store().appendToStream(s, batch, { expectedRevision: 'no_stream' });
        const again = await store().appendToStream(s, batch, { expectedRevision: 'no_stream' });
        const againAny = await store().appendToStream(s, batch, { expectedRevision: 'any' });
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(comparePositions(again.position, first.position)).toBe(0);
        expect(againAny.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(await store().readStream(s)).toHaveLength(2);
      });

      it('a retry after later appends still returns the original result and writes nothing', async () => {
        const s = uniqueStream('order');
        const batch = [event('A')];
        const first = await store().appendToStream(s, batch, { expectedRevision: 'no_stream' });
        await store().appendToStream(s, [event('B')], { expectedRevision: 0 });
        const retry = await store().appendToStream(s, batch, { expectedRevision: 'no_stream' });
        expect(retry.nextExpectedRevision).toBe(0);
        expect(comparePositions(retry.position, first.position)).toBe(0);
        expect((await store().readStream(s)).map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('two concurrent identical appends store the batch once', async () => {
        const s = uniqueStream('order');
        const batch = [event('A'), event('B'), event('C')];
        const results = await Promise.all([
          store().appendToStream(s, batch, { expectedRevision: 'no_stream' }),
          store().appendToStream(s, batch, { expectedRevision: 'no_stream' }),
        ]);
        expect(results.map((r) => r.nextExpectedRevision)).toEqual([2, 2]);
        expect(await store().readStream(s)).toHaveLength(3);
      });
    });

    describe('readStream', () => {
      it('reads backwards, and from a revision in either direction with maxCount', async () => {
        const s = uniqueStream('order');
        await store().appendToStream(s, ['E0', 'E1', 'E2', 'E3', 'E4'].map((t) => event(t)));
        const types = (es: RecordedEvent[]) => es.map((e) => e.type);
        expect(types(await store().readStream(s, { direction: 'backwards' }))).toEqual(['E4', 'E3', 'E2', 'E1', 'E0']);
        expect(types(await store().readStream(s, { fromRevision: 2 }))).toEqual(['E2', 'E3', 'E4']);
        expect(types(await store().readStream(s, { fromRevision: 1, maxCount: 2 }))).toEqual(['E1', 'E2']);
        expect(types(await store().readStream(s, { direction: 'backwards', fromRevision: 3, maxCount: 2 }))).toEqual(['E3', 'E2']);
        expect(types(await store().readStream(s, { direction: 'backwards', maxCount: 1 }))).toEqual(['E4']);
      });

      it('returns no events for a stream that does not exist', async () => {
        expect(await store().readStream(uniqueStream('order'))).toEqual([]);
        expect(await store().readStream(uniqueStream('order'), { direction: 'backwards' })).toEqual([]);
      });
    });

    describe('readAll', () => {
      it('reads the log in increasing position order after an exclusive position, with maxCount', async () => {
        const p = uniquePrefix();
        await store().appendToStream(`${p}a-1`, [event('A0'), event('A1')]);
        await store().appendToStream(`${p}b-1`, [event('B0')]);
        await store().appendToStream(`${p}a-1`, [event('A2')]);
        const all = await store().readAll({ filter: { streamPrefixes: [p] } });
        expect(all.map((e) => e.type)).toEqual(['A0', 'A1', 'B0', 'A2']);
        expectStrictlyIncreasing(all.map((e) => e.position));

        const after = await store().readAll({ after: all[1].position, filter: { streamPrefixes: [p] } });
        expect(after.map((e) => e.type)).toEqual(['B0', 'A2']);
        const page = await store().readAll({ after: all[0].position, maxCount: 2, filter: { streamPrefixes: [p] } });
        expect(page.map((e) => e.type)).toEqual(['A1', 'B0']);
        const none = await store().readAll({ after: all[3].position, filter: { streamPrefixes: [p] } });
        expect(none).toEqual([]);
      });

      it('filters by stream prefixes, by event types, and by both', async () => {
        const p = uniquePrefix();
        const t = (name: string) => `${name}_${p.replace(/[^a-z0-9]/gi, '')}`;
        await store().appendToStream(`${p}order-1`, [event(t('Placed')), event(t('Paid'))]);
        await store().appendToStream(`${p}stock-1`, [event(t('Reserved'))]);
        await store().appendToStream(`${p}order-2`, [event(t('Placed'))]);
        await store().appendToStream(`${p}payment-1`, [event(t('Paid'))]);

        const orders = await store().readAll({ filter: { streamPrefixes: [`${p}order-`] } });
        expect(orders.map((e) => e.streamId)).toEqual([`${p}order-1`, `${p}order-1`, `${p}order-2`]);

        const twoPrefixes = await store().readAll({ filter: { streamPrefixes: [`${p}stock-`, `${p}payment-`] } });
        expect(twoPrefixes.map((e) => e.streamId)).toEqual([`${p}stock-1`, `${p}payment-1`]);

        const placed = await store().readAll({ filter: { eventTypes: [t('Placed')] } });
        expect(placed.map((e) => e.streamId)).toEqual([`${p}order-1`, `${p}order-2`]);

        const paidOrders = await store().readAll({ filter: { streamPrefixes: [`${p}order-`], eventTypes: [t('Paid')] } });
        expect(paidOrders.map((e) => [e.streamId, e.type])).toEqual([[`${p}order-1`, t('Paid')]]);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up on past events, then delivers new ones live, once each and in order', async () => {
        const p = uniquePrefix();
        await store().appendToStream(`${p}1`, [event('Past0'), event('Past1')]);
        await store().appendToStream(`${p}2`, [event('Past2')]);
        const got: RecordedEvent[] = [];
        const sub = store().subscribeToAll({ filter: { streamPrefixes: [p] }, onEvent: async (e) => void got.push(e) });
        try {
          await waitFor(() => got.length >= 3, 'catch-up');
          await store().appendToStream(`${p}1`, [event('Live0')]);
          await store().appendToStream(`${p}3`, [event('Live1'), event('Live2')]);
          await waitFor(() => got.length >= 6, 'live events');
          await settle();
        } finally {
          await sub.stop();
        }
        expect(got.map((e) => e.type)).toEqual(['Past0', 'Past1', 'Past2', 'Live0', 'Live1', 'Live2']);
        expectStrictlyIncreasing(got.map((e) => e.position));
      });

      it('resumes after a stored checkpoint without redelivering or skipping', async () => {
        const p = uniquePrefix();
        for (let i = 0; i < 6; i++) await store().appendToStream(`${p}${i % 2}`, [event(`E${i}`)]);
        const first: RecordedEvent[] = [];
        let checkpoint: LogPosition = START;
        const sub1 = store().subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (e) => {
            // Simulates a consumer that processed (and checkpointed) three events, then went away.
            if (first.length >= 3) return;
            first.push(e);
            checkpoint = e.position;
          },
        });
        await waitFor(() => first.length >= 3, 'first three events');
        await sub1.stop();

        await store().appendToStream(`${p}9`, [event('E6')]);
        const second: RecordedEvent[] = [];
        const sub2 = store().subscribeToAll({ after: checkpoint, filter: { streamPrefixes: [p] }, onEvent: async (e) => void second.push(e) });
        try {
          await waitFor(() => second.length >= 4, 'resumed events');
          await settle();
        } finally {
          await sub2.stop();
        }
        expect(first.map((e) => e.type)).toEqual(['E0', 'E1', 'E2']);
        expect(second.map((e) => e.type)).toEqual(['E3', 'E4', 'E5', 'E6']);
      });

      it('awaits onEvent before delivering the next event', async () => {
        const p = uniquePrefix();
        await store().appendToStream(`${p}1`, [event('A'), event('B'), event('C'), event('D')]);
        let inFlight = 0;
        let maxInFlight = 0;
        const got: string[] = [];
        const sub = store().subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (e) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise((r) => setTimeout(r, 20));
            got.push(e.type);
            inFlight--;
          },
        });
        try {
          await waitFor(() => got.length >= 4, 'slow handler');
        } finally {
          await sub.stop();
        }
        expect(maxInFlight).toBe(1);
        expect(got).toEqual(['A', 'B', 'C', 'D']);
      });

      it('stop() resolves after the handler in progress finishes and nothing is delivered afterwards', async () => {
        const p = uniquePrefix();
        await store().appendToStream(`${p}1`, [event('A')]);
        const got: string[] = [];
        let handlerFinished = false;
        const sub = store().subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (e) => {
            got.push(e.type);
            await new Promise((r) => setTimeout(r, 100));
            handlerFinished = true;
          },
        });
        await waitFor(() => got.length === 1, 'first event');
        await sub.stop();
        expect(handlerFinished).toBe(true);
        await store().appendToStream(`${p}1`, [event('B')]);
        await settle();
        expect(got).toEqual(['A']);
      });

      it('a failing handler stops the subscription and reports the error; resuming redelivers that event', async () => {
        const p = uniquePrefix();
        await store().appendToStream(`${p}1`, [event('Ok'), event('Poison'), event('After')]);
        const delivered: string[] = [];
        let checkpoint: LogPosition = START;
        const errors: unknown[] = [];
        const sub = store().subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (e) => {
            if (e.type === 'Poison') throw new Error('handler failed');
            delivered.push(e.type);
            checkpoint = e.position;
          },
          onError: (e) => errors.push(e),
        });
        await waitFor(() => errors.length === 1, 'onError');
        await sub.stop();
        expect(delivered).toEqual(['Ok']);
        expect((errors[0] as Error).message).toBe('handler failed');

        const resumed: string[] = [];
        const sub2 = store().subscribeToAll({ after: checkpoint, filter: { streamPrefixes: [p] }, onEvent: async (e) => void resumed.push(e.type) });
        try {
          await waitFor(() => resumed.length >= 2, 'resumed');
        } finally {
          await sub2.stop();
        }
        expect(resumed).toEqual(['Poison', 'After']);
      });

      it('delivers only events that pass the filter', async () => {
        const p = uniquePrefix();
        const type = `Wanted_${p.replace(/[^a-z0-9]/gi, '')}`;
        await store().appendToStream(`${p}order-1`, [event(type), event('Other')]);
        await store().appendToStream(`${p}stock-1`, [event(type)]);
        const got: RecordedEvent[] = [];
        const sub = store().subscribeToAll({ filter: { streamPrefixes: [`${p}order-`], eventTypes: [type] }, onEvent: async (e) => void got.push(e) });
        try {
          await waitFor(() => got.length >= 1, 'filtered event');
          await store().appendToStream(`${p}order-2`, [event('Other'), event(type)]);
          await waitFor(() => got.length >= 2, 'filtered live event');
          await settle();
        } finally {
          await sub.stop();
        }
        expect(got.map((e) => e.streamId)).toEqual([`${p}order-1`, `${p}order-2`]);
      });
    });
  });
}

// --- helpers ---------------------------------------------------------------------------------

function uniquePrefix(): string {
  return `c${randomUUID().slice(0, 8)}-`;
}

function uniqueStream(category: string): string {
  return `${uniquePrefix()}${category}-${randomUUID().slice(0, 8)}`;
}

function metadata(extra: Partial<EventMetadata> = {}): EventMetadata {
  return { correlationId: randomUUID(), causationId: null, occurredAt: '2026-05-01T08:30:00.000Z', ...extra };
}

function event(type: string, data: unknown = { n: type }, meta: EventMetadata = metadata(), schemaVersion?: number): NewEvent {
  return { eventId: randomUUID(), type, data, metadata: meta, ...(schemaVersion ? { schemaVersion } : {}) };
}

function expectStrictlyIncreasing(positions: LogPosition[]): void {
  for (let i = 1; i < positions.length; i++) expect(comparePositions(positions[i - 1], positions[i])).toBeLessThan(0);
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Gives a subscription time to deliver anything it wrongly would (duplicates, late events). */
function settle(ms = 300): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

