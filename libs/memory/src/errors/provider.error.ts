export type ProviderErrorKind = 'rate_limit' | 'server' | 'timeout' | 'bad_response' | 'auth' | 'bad_request' | 'connection';

/** The kind of a provider's HTTP error status; none is an error event inside a stream. */
export function kindOfStatus(status: number | undefined): ProviderErrorKind {
  if (status === undefined) return 'server';
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** Transient kinds: worth another attempt later (the SDK has already spent its own retries). */
const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set(['rate_limit', 'server', 'timeout', 'connection']);

/** A remote embedding/LLM call that failed, classified so callers can decide to retry or fail the job for good. */
export class ProviderError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
    this.retryable = RETRYABLE.has(kind);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
