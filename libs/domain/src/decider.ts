/**
 * The Decider pattern (Jérémie Chassaing; Emmett): pure functions, no I/O, no clock.
 * `decide` turns a command and the current state into new events (or throws a DomainError);
 * `evolve` folds one event into the state.
 */
export interface Decider<State, Command, Event> {
  initialState(): State;
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

/** Folds events into a state with a decider's evolve. */
export function fold<State, Command, Event>(decider: Decider<State, Command, Event>, events: readonly Event[], from?: State): State {
  return events.reduce((s, e) => decider.evolve(s, e), from ?? decider.initialState());
}

/** Exhaustiveness guard for discriminated unions: a compile error when a case is missing. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
