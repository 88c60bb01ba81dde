// Allocation sampling of running services (README, Performance, session 22). Preload it into every
// service: FLOWLINE_NODE_FLAGS="--max-old-space-size=160 --max-semi-space-size=4 --import ./bench/alloc-sampler.mjs" npm start -- --no-seed
// then, under load, `kill -USR1 <pid>` starts V8's sampling heap profiler (objects collected by GC
// kept, so it counts what was allocated, not what is live) and `kill -USR2 <pid>` writes
// /tmp/heapsamp/<pid>.heapprofile; `node bench/alloc-summary.mjs <file>` prints self and inclusive
// shares by function. While preloaded, SIGUSR1 no longer opens Node's inspector; sent to a service
// started without it, USR1 opens the inspector and USR2 ends the process.
import inspector from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
const session = new inspector.Session();
session.connect();
const post = (m, p = {}) => new Promise((res, rej) => session.post(m, p, (e, r) => (e ? rej(e) : res(r))));
await post('HeapProfiler.enable');
let started = false;
process.on('SIGUSR1', async () => {
  try {
    await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    started = true;
  } catch (e) {
    console.error('alloc-sampler: start failed', e);
  }
});
process.on('SIGUSR2', async () => {
  if (!started) return;
  started = false;
  try {
    const { profile } = await post('HeapProfiler.stopSampling');
    mkdirSync('/tmp/heapsamp', { recursive: true });
    writeFileSync(`/tmp/heapsamp/${process.pid}.heapprofile`, JSON.stringify(profile));
  } catch (e) {
    console.error('alloc-sampler: writing the profile failed', e);
  }
});
