import { describe, expect, it } from 'vitest';
import { fold, type Decider } from './decider';

type S = { n: number };
type C = { type: 'Add'; by: number };
type E = { type: 'Added'; by: number };
const counter: Decider<S, C, E> = {
  initialState: () => ({ n: 0 }),
  decide: (c) => [{ type: 'Added', by: c.by }],
  evolve: (s, e) => ({ n: s.n + e.by }),
};

describe('fold', () => {
  it('folds events into state with evolve, starting from the initial state', () => {
    expect(fold(counter, [{ type: 'Added', by: 2 }, { type: 'Added', by: 3 }])).toEqual({ n: 5 });
  });
});
