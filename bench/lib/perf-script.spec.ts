import { describe, expect, it } from 'vitest';
import { formatMachineProfile, nativeCategory, packageOfFrame, parsePerfScript, profileMachine } from './perf-script';

// The shape `perf script -F comm,pid,tid,ip,sym` prints: a header per sample, frames leaf first.
const TEXT = `swapper     0/0 
	ffffffff8100 pvm_safe_halt_hc

node-MainThread 101/101 
	    7fcc5cf46d7b JS:+'decodeResponse /w/node_modules/kafkajs/src/protocol/requests/fetch/v11/response.js:42:24
	    7fcc5cf554f8 JS:*'fetch /w/node_modules/kafkajs/src/consumer/consumerGroup.js:446:14
	    7fcc5d059a84 JS:^ /w/dist/libs/messaging/src/consumer/run-consumer.js:65:65
	         1768075 Builtins_PromiseFulfillReactionJob

node-MainThread 101/101 
	          a0c0b8 v8::internal::Scavenger::ScavengePage
	          4b2379 node::InternalCallbackScope::Close

node-V8Worker 101/104 
	          a0c0b8 v8::internal::ConcurrentMarking::RunMajor

node-MainThread 101/101 
	    7fcc5cf1bb93 JS:+'append /w/dist/services/order-intake/src/infra/pg-order-store.js:258:19
	    7fcc5cf1bb93 JS:*'query /w/node_modules/pg/lib/client.js:668:8
	    7fcc5cf1bb93 JS:+'append /w/dist/services/order-intake/src/infra/pg-order-store.js:258:19

GC Thread#0 300/305 
	             bb4 G1CollectionSet::par_iterate

postgres    200/200 
	          5e1f2b ExecInsert

node-MainThread 101/101 
	          a0c0b9 v8::internal::Scavenger::ScavengeObject
	         16e3a76 Builtins_CreateShallowObjectLiteral
	    7fcc5cf1bb93 JS:*'query /w/node_modules/pg/lib/client.js:668:8

node-MainThread 101/101 7fcc5d0 JS:+'poll /w/dist/libs/messaging/src/relay/event-relay.js:176:27
`;

describe('perf script profile', () => {
  const samples = parsePerfScript(TEXT);

  it('parses each sample with its process id and frames, comm names with spaces included', () => {
    expect(samples).toHaveLength(9);
    expect(samples[1]).toMatchObject({ comm: 'node-MainThread', pid: 101 });
    expect(samples[1].frames[0]).toBe("JS:+'decodeResponse /w/node_modules/kafkajs/src/protocol/requests/fetch/v11/response.js:42:24");
    expect(samples[3]).toMatchObject({ comm: 'node-V8Worker', pid: 101 });
    expect(samples[5]).toMatchObject({ comm: 'GC Thread#0', pid: 300, frames: ['G1CollectionSet::par_iterate'] });
    // perf printed no callchain: the one frame sits on the header line.
    expect(samples[8]).toMatchObject({ comm: 'node-MainThread', pid: 101, frames: ["JS:+'poll /w/dist/libs/messaging/src/relay/event-relay.js:176:27"] });
  });

  it('names the package of JS frames and leaves native frames to a category', () => {
    expect(packageOfFrame("JS:*'x /w/node_modules/@opentelemetry/sdk-trace-node/node_modules/@opentelemetry/sdk-trace/build/src/Tracer.js:1:1")).toBe('@opentelemetry/sdk-trace');
    expect(packageOfFrame("JS:+'a /w/dist/services/order-intake/src/infra/x.js:1:1")).toBe('flowline services/order-intake');
    expect(packageOfFrame("JS:*'processTicksAndRejections node:internal/process/task_queues:72:35")).toBe('node:internals');
    expect(packageOfFrame('node::InternalCallbackScope::Close')).toBeNull();
    expect(nativeCategory(['v8::internal::Scavenger::ScavengePage'])).toBe('(V8 GC)');
    expect(nativeCategory(['__GI_epoll_pwait', 'uv_run'])).toBe('(epoll wait)');
    expect(nativeCategory(['ExecInsert'])).toBe('(native)');
  });

  it('charges self time to the leaf-most package (GC entered from JS to the GC) and inclusive time once per package; idle stays out', () => {
    const names: Record<number, string> = { 101: 'order-intake', 200: 'postgres' };
    const p = profileMachine(samples, (pid, comm) => names[pid] ?? comm);
    expect(p).toMatchObject({ busySamples: 8, idleSamples: 1 });
    expect(p.processes.map((x) => [x.name, x.samples, x.pct])).toEqual([
      ['order-intake', 6, 75],
      ['GC Thread#0', 1, 12.5],
      ['postgres', 1, 12.5],
    ]);
    const oi = p.processes[0];
    // Scavenge with no JS frame, concurrent marking, and a scavenge under pg's query: 3 of 6.
    expect(oi.self[0]).toEqual({ name: '(V8 GC)', pct: 50 });
    expect(oi.self.slice(1)).toEqual(
      expect.arrayContaining([
        { name: 'kafkajs', pct: 16.7 },
        { name: 'flowline services/order-intake', pct: 16.7 },
        { name: 'flowline libs/messaging', pct: 16.7 },
      ]),
    );
    expect(oi.self.map((x) => x.name)).not.toContain('pg');
    // The order-intake frame appears twice in one stack: counted once.
    expect(oi.inclusive).toEqual(
      expect.arrayContaining([
        { name: 'flowline services/order-intake', pct: 16.7 },
        { name: 'pg', pct: 33.3 },
        { name: 'flowline libs/messaging', pct: 33.3 },
        { name: 'kafkajs', pct: 16.7 },
      ]),
    );
    const text = formatMachineProfile(p);
    expect(text).toContain('by process: order-intake 75%, GC Thread#0 12.5%, postgres 12.5%, others 0%');
    expect(text).toContain('order-intake (75% of busy CPU)');
    // No JS frames in postgres: its self time reads by leaf function.
    expect(p.processes[2].self).toEqual([{ name: 'ExecInsert', pct: 100 }]);
  });
});
