import { deepStrictEqual, fail } from 'node:assert/strict';
import { fold, type Decider } from '@flowline/domain';

/**
 * Given / when / then for deciders (Emmett's DeciderSpecification, for Vitest):
 *
 *   const spec = deciderSpec(orderDecider);
 *   spec.given([placed, paid]).when(cancel).then([cancelled]);
 *   spec.given([placed]).when(ship).thenThrows({ code: 'ORDER_ILLEGAL_TRANSITION' });
 *
 * `given` events are folded with `evolve`; `then` compares `decide`'s events as JSON (events are
 * plain JSON by contract, so an absent and an undefined field are the same);
 * `thenThrows` matches the listed properties of the thrown error (code, kind, details: {field}...;
 * nested objects match as subsets) and proves
 * the refusal produced no events (decide threw before returning any).
 * Framework-agnostic (node:assert), so importing @flowline/testing outside a test runner is safe.
 */
export interface DeciderSpec<S, C, E> {
  given(events: readonly E[]): Given<S, C, E>;
}

export interface Given<S, C, E> {
  /** The state the given events fold into. */
  readonly state: S;
  when(command: C): When<S, E>;
}

export interface When<S, E> {
  /** Asserts the exact events decided; returns the state after them. */
  then(expected: readonly E[]): S;
  /** Asserts with a custom check on the decided events; returns the state after them. */
  thenEvents(check: (events: E[]) => void): S;
  /** Asserts the command is refused with an error matching `expected` (e.g. `{ code }`). */
  thenThrows(expected: Record<string, unknown>): void;
}

export function deciderSpec<S, C, E>(decider: Decider<S, C, E>): DeciderSpec<S, C, E> {
  return {
    given(events) {
      const state = fold(decider, events);
      return {
        state,
        when(command) {
          const run = () => decider.decide(command, state);
          const after = (decided: E[]) => fold(decider, decided, state);
          return {
            then(expected) {
              const decided = run();
              deepStrictEqual(asJson(decided), asJson(expected));
              return after(decided);
            },
            thenEvents(check) {
              const decided = run();
              check(decided);
              return after(decided);
            },
            thenThrows(expected) {
              let decided: E[] | undefined;
              let thrown: unknown;
              try {
                decided = run();
              } catch (e) {
                thrown = e;
              }
              if (decided !== undefined) fail(`expected the command to be refused, but it decided ${JSON.stringify(decided)}`);
              assertSubset(thrown, expected, 'error', String(thrown));
            },
          };
        },
      };
    },
  };
}

function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Every property of `expected` is in `actual` with an equal value; nested plain objects compare as subsets. */
function assertSubset(actual: unknown, expected: Record<string, unknown>, path: string, context: string): void {
  for (const [key, value] of Object.entries(expected)) {
    const got = (actual as Record<string, unknown> | null | undefined)?.[key];
    if (isPlainObject(value) && isPlainObject(got)) assertSubset(got, value, `${path}.${key}`, context);
    else deepStrictEqual(got, value, `${path}.${key} (${context})`);
  }
}
