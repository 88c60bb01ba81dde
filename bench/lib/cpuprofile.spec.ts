import { describe, expect, it } from 'vitest';
import { packageOf, summarize, type CpuProfile } from './cpuprofile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

describe('cpu profile summary', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('parse', 'file:///w/node_modules/pg-protocol/dist/parser.js', 9) },
      { id: 4, callFrame: frame('decide', 'file:///w/dist/services/order-intake/src/domain/order.decider.js', 41) },
      { id: 5, callFrame: frame('(garbage collector)') },
      { id: 6, callFrame: frame('', 'file:///w/node_modules/@nestjs/core/router/router-execution-context.js', 0) },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [2, 3, 3, 4, 5, 2, 6, 3],
    timeDeltas: [1000, 1000, 1000, 2000, 500, 3000, 500, 1000],
  };

  it('charges each sample interval to the function it landed in, leaving idle out of busy time', () => {
    const s = summarize(profile);
    expect(s.busyMs).toBe(6);
    expect(s.gcMs).toBe(0.5);
    expect(s.topFunctions[0]).toEqual({ name: 'parse pg-protocol/dist/parser.js:10', ms: 3, share: 50 });
    expect(s.topFunctions.map((f) => f.name)).toContain('decide services/order-intake/src/domain/order.decider.js:42');
    expect(s.topFunctions.map((f) => f.name)).not.toContain('(idle)');
  });

  it('groups self time by npm package, node internals and Flowline lib/service', () => {
    const s = summarize(profile);
    expect(s.topPackages.map((p) => p.name)).toEqual(['pg-protocol', 'flowline services/order-intake', '(garbage collector)', '@nestjs/core']);
    expect(packageOf('node:internal/streams/readable')).toBe('node:internals');
    expect(packageOf('file:///w/dist/libs/eventstore/src/postgres/pg-event-store.js')).toBe('flowline libs/eventstore');
  });
});
