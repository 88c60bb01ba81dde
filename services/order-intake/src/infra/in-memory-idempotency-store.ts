import { idempotencyKeyReused, type IdempotencyStore, type StoredResponse } from '../application/idempotency';

/** IdempotencyStore in memory (unit tests): a promise chain per key gives the same queueing as the advisory lock. */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly stored = new Map<string, { hash: string; response: StoredResponse }>();
  private readonly locks = new Map<string, Promise<unknown>>();

  once(scope: string, key: string, requestHash: string, execute: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }> {
    const id = `${scope}\u0000${key}`;
    const run = async () => {
      const found = this.stored.get(id);
      if (found) {
        if (found.hash !== requestHash) throw idempotencyKeyReused(key);
        return { response: found.response, replayed: true };
      }
      const response = await execute();
      this.stored.set(id, { hash: requestHash, response });
      return { response, replayed: false };
    };
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.locks.set(id, next.catch(() => undefined));
    return next;
  }
}
