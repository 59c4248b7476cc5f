import { ApiError } from './api-error';
import { ApiUnreachableError } from './api-unreachable.error';

/** How often a call is sent in all, and the longest wait between two tries. */
const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const isRetryable = (err: unknown): boolean => err instanceof ApiUnreachableError || (err instanceof ApiError && err.retryable);

/**
 * Runs `call` again on a network error, 5xx or 429 (after Retry-After when the API sheds load), up to
 * MAX_ATTEMPTS; `onFailure` sees each failed attempt. Other errors, and the last one, are thrown.
 */
export async function retrying<T>(call: () => Promise<T>, onFailure: (err: unknown, last: boolean) => void = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      onFailure(err, attempt === MAX_ATTEMPTS);
      if (attempt === MAX_ATTEMPTS) throw err;
      await sleep(Math.min(MAX_BACKOFF_MS, (err instanceof ApiError && err.retryAfterMs) || 50 * 2 ** attempt));
    }
  }
}

