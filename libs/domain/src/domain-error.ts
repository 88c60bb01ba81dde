/**
 * A refused command. `code` is stable (clients and tests match on it); maps to HTTP 409 and
 * gRPC FAILED_PRECONDITION unless `kind` says otherwise (`forbidden`: the actor's role may not do
 * this here, e.g. decide a step of another role: 403 / PERMISSION_DENIED).
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly kind: 'conflict' | 'not_found' | 'invalid' | 'forbidden' = 'conflict',
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
