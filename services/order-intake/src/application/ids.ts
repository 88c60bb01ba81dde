import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id that is a function of its inputs. Event ids derived from (stream, command id,
 * index) make a retried command or a redelivered message produce the same ids, so the event
 * store's idempotent append and the consumers' inboxes see a repeat, not a new fact.
 */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u001f')).digest('hex');
  // Version nibble 5 and RFC 4122 variant, like a name-based UUID (v5 uses SHA-1; the shape is what matters).
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function eventIdFor(streamId: string, commandId: string, index: number): string {
  return deterministicId('event', streamId, commandId, String(index));
}
