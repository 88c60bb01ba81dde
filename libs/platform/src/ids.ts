import { randomFillSync } from 'node:crypto';
import { monotonicFactory, type ULIDFactory } from 'ulid';

/**
 * The random source of ulid's factory, drawn from a 4 KiB buffer of crypto randomness refilled
 * when used up. ulid's own source asks crypto for ONE byte per character (16 calls per id): a
 * profile of notification under load had id generation at ~3% of its CPU (issue #10); every
 * service makes ids on its hot path, so the factory lives here.
 */
export function bufferedRandom(size = 4096): () => number {
  const pool = new Uint8Array(size);
  let next = size;
  return () => {
    if (next >= size) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++] / 256;
  };
}

/**
 * Monotonic ULIDs (sortable, unique within the process) from the buffered source: what every
 * service uses for event and record ids instead of ulid's `monotonicFactory()` default source.
 */
export function ulidFactory(): ULIDFactory {
  return monotonicFactory(bufferedRandom());
}
