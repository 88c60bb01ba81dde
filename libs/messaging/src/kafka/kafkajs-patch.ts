import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/*
 * kafkajs 2.2.4 (unmaintained) re-arms a timer every time it checks its request queue, even with
 * nothing pending, using a negative delay: each connection spins a 1 ms timer forever (CPU) and
 * Node >= 24 prints TimeoutNegativeWarning. Upstream: tulios/kafkajs#1704 and #1751 (fix PRs
 * #1755/#1768 unmerged). This replaces that one method with the fix proposed there: schedule a
 * check only when requests are pending or the broker throttles us; `push()` schedules one itself
 * when it queues a request. Applied only when the buggy code is present, so an upgraded kafkajs
 * is left alone.
 */

const CHECK_PENDING_REQUESTS_INTERVAL = 10;
const proto = RequestQueue.prototype;
const PATCHED = Symbol.for('flowline.kafkajs.requestQueuePatched');

export function patchKafkajsRequestQueue(): boolean {
  const target = proto as unknown as Record<symbol, boolean>;
  if (target[PATCHED]) return true;
  if (!proto.scheduleCheckPendingRequests.toString().includes('let scheduleAt = this.throttledUntil - Date.now()')) return false;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: typeof proto) {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    let delay: number;
    if (this.pending.length > 0) delay = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL;
    else if (untilUnthrottled > 0) delay = untilUnthrottled;
    else return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
  target[PATCHED] = true;
  return true;
}

patchKafkajsRequestQueue();
