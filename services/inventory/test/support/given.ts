import { expect } from 'vitest';
import { isDomainError, type Decider } from '@flowline/domain';

/**
 * given(events).when(command).then(events) | .thenThrows(code) for a decider.
 * (libs/testing will carry a shared one; this keeps the inventory specs independent of its timing.)
 */
export function deciderSpec<S, C, E>(decider: Decider<S, C, E>) {
  return {
    given(history: E[]) {
      const state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState());
      return {
        state,
        when(command: C) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: E[]) {
              expect(run()).toEqual(expected);
            },
            thenThrows(code: string) {
              let thrown: unknown;
              try {
                run();
              } catch (e) {
                thrown = e;
              }
              expect(isDomainError(thrown), `expected a DomainError ${code}, got ${String(thrown)}`).toBe(true);
              expect((thrown as { code: string }).code).toBe(code);
            },
          };
        },
      };
    },
  };
}
