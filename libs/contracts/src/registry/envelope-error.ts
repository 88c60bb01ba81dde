/**
 * Why an envelope was refused:
 * - `invalid_json`: the bytes are not JSON;
 * - `invalid_envelope`: JSON, but not an envelope (a field missing or of the wrong kind);
 * - `unknown_type`: the registry has no such event or command type;
 * - `unknown_version`: the type is known, but not at this schema version (newer than this build
 *   knows, or older than the oldest version still read);
 * - `upcast_failed`: an upcaster threw while lifting the payload.
 *
 * None of them goes away on a retry: a consumer dead-letters such a message at once.
 */
export type EnvelopeErrorCode = 'invalid_json' | 'invalid_envelope' | 'unknown_type' | 'unknown_version' | 'upcast_failed';

/** An envelope that cannot be read; `code` says why, `type` / `schemaVersion` what was seen. */
export class EnvelopeError extends Error {
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
    readonly type?: string,
    readonly schemaVersion?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EnvelopeError';
  }
}

/** True for an {@link EnvelopeError} (also across copies of this module). */
export function isEnvelopeError(e: unknown): e is EnvelopeError {
  return e instanceof EnvelopeError || (e instanceof Error && e.name === 'EnvelopeError' && typeof (e as { code?: unknown }).code === 'string');
}
