import { deepStrictEqual, fail } from 'node:assert/strict';

/**
 * A read model as a pure fold: what a `<view>.projection.ts` exports (STYLE.md). The database
 * adapter (`<view>.entity.ts`) stores what `rows` returns; tests prove the fold.
 */
export interface Projection<S, E, R> {
  /** The empty read model. */
  initialState(): S;
  /** Applies one event. Pure: returns the next state and leaves `state` as it was. */
  evolve(state: S, event: E): S;
  /** The rows of the read model, in a stable order (the spec compares lists). */
  rows(state: S): readonly R[];
}

/**
 * A projection with one row per key (an order, a SKU): `project` gets the key's current row (or
 * null) and returns the new row, `null` to delete it, or `undefined` to leave it as it was.
 * Events whose `keyOf` is null/undefined are ignored. Rows come out sorted by key.
 */
export function keyedProjection<E, R>(options: {
  keyOf(event: E): string | null | undefined;
  project(row: R | null, event: E): R | null | undefined;
}): Projection<ReadonlyMap<string, R>, E, R> {
  return {
    initialState: () => new Map<string, R>(),
    evolve(state, event) {
      const key = options.keyOf(event);
      if (key == null) return state;
      const next = options.project(state.get(key) ?? null, event);
      if (next === undefined) return state;
      const copy = new Map(state);
      if (next === null) copy.delete(key);
      else copy.set(key, next);
      return copy;
    },
    rows: (state) => [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row),
  };
}

/**
 * Given / when / then for projections ("given events, expect rows"), framework-agnostic like
 * {@link deciderSpec} (node:assert, so importing @flowline/testing outside a runner is safe):
 *
 *   const spec = projectionSpec(orderSummaryProjection);
 *   spec.given([placed, paid]).when(shipped).then([{ orderId: 'o-1', stage: 'shipped', ... }]);
 *   spec.given([placed, paid]).thenMatch([{ orderId: 'o-1', stage: 'paid' }]);
 *   spec.given([placed]).when(stockLevelChanged).thenUnchanged();
 *
 * Rows compare as JSON (rows are stored as plain JSON, so an absent and an undefined field are the
 * same). `when` also proves `evolve` did not mutate the state it was given: the rows of the given
 * state must read the same after the when-events were applied (a projection that mutates in place
 * makes a rebuild disagree with the live view).
 */
export interface ProjectionSpec<S, E, R> {
  given(events: readonly E[]): ProjectionGiven<S, E, R>;
}

export interface ProjectionThen<S, R> {
  /** The state after every event so far. */
  readonly state: S;
  /** Asserts the exact rows, in order; returns them. */
  then(expected: readonly R[]): readonly R[];
  /** Asserts as many rows as `expected`, each holding the listed fields (nested objects as subsets); returns them. */
  thenMatch(expected: readonly DeepPartial<R>[]): readonly R[];
  /** Runs a custom check on the rows; returns them. */
  thenRows(check: (rows: readonly R[]) => void): readonly R[];
}

/** Some fields of `T`, at any depth (arrays compare whole). */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface ProjectionGiven<S, E, R> extends ProjectionThen<S, R> {
  /** Applies more events on top of the given ones. */
  when(...events: E[]): ProjectionWhen<S, R>;
}

export interface ProjectionWhen<S, R> extends ProjectionThen<S, R> {
  /** Asserts the when-events changed no row (ignored types, redeliveries, events of other keys). */
  thenUnchanged(): readonly R[];
}

export function projectionSpec<S, E, R>(projection: Projection<S, E, R>): ProjectionSpec<S, E, R> {
  const fold = (events: readonly E[], from: S): S => events.reduce((s, e) => projection.evolve(s, e), from);
  return {
    given(events) {
      const state = fold(events, projection.initialState());
      return {
        ...thens(projection, state),
        when(...whenEvents) {
          const before = asJson(projection.rows(state));
          const after = fold(whenEvents, state);
          const givenAfter = asJson(projection.rows(state));
          try {
            deepStrictEqual(givenAfter, before);
          } catch {
            fail(`evolve mutated the state it was given: the given rows changed from ${JSON.stringify(before)} to ${JSON.stringify(givenAfter)}`);
          }
          return {
            ...thens(projection, after),
            thenUnchanged() {
              const rows = projection.rows(after);
              deepStrictEqual(asJson(rows), before, 'expected the rows to stay as they were');
              return rows;
            },
          };
        },
      };
    },
  };
}

function thens<S, E, R>(projection: Projection<S, E, R>, state: S): ProjectionThen<S, R> {
  return {
    state,
    then(expected) {
      const rows = projection.rows(state);
      deepStrictEqual(asJson(rows), asJson(expected));
      return rows;
    },
    thenMatch(expected) {
      const rows = projection.rows(state);
      if (rows.length !== expected.length) {
        fail(`expected ${expected.length} row(s), got ${rows.length}: ${JSON.stringify(rows)}`);
      }
      expected.forEach((e, i) => assertSubset(asJson(rows[i]), asJson(e) as Record<string, unknown>, `rows[${i}]`));
      return rows;
    },
    thenRows(check) {
      const rows = projection.rows(state);
      check(rows);
      return rows;
    },
  };
}

function asJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every field of `expected` is in `actual` with an equal value; nested plain objects compare as subsets. */
function assertSubset(actual: unknown, expected: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(expected)) {
    const got = isPlainObject(actual) ? actual[key] : undefined;
    if (isPlainObject(value) && isPlainObject(got)) assertSubset(got, value, `${path}.${key}`);
    else deepStrictEqual(got, value, `${path}.${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got)}`);
  }
}
