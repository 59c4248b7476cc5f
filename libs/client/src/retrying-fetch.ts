import { AgentMemoryConnectionError, AgentMemoryTimeoutError, retryAfterMs } from './errors.js';

export interface RetryPolicy {
  /** Attempts after the first, on 429, 503 and connection failures. */
  maxRetries: number;
  /** The whole call's budget, retries and their waits included. */
  timeoutMs: number;
  signal?: AbortSignal;
}

const RETRIED_STATUS = new Set([429, 503]);
const MAX_BACKOFF_MS = 10_000;

/** Exponential backoff with full jitter, for answers that name no Retry-After. */
const backoff = (attempt: number) => Math.random() * Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    };
    const abort = () => (done(), reject(signal.reason));
    const timer = setTimeout(() => (done(), resolve()), ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

/**
 * A fetch for one call: it sends the request again on 429 and 503 (after Retry-After when the API names one, else a
 * jittered backoff) and on connection failures, up to maxRetries, and gives up at the call's timeout or its signal.
 * Every write carries an id (turn ids, Idempotency-Key), so sending one again never stores it twice.
 */
export function retryingFetch(base: typeof fetch, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request) => {
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = policy.signal ? AbortSignal.any([policy.signal, timeout]) : timeout;
    const deadline = Date.now() + policy.timeoutMs;
    const fail = (err: unknown) => (timeout.aborted && !policy.signal?.aborted ? new AgentMemoryTimeoutError(request.url, policy.timeoutMs) : err);
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await base(request.clone(), { signal });
      } catch (err) {
        if (signal.aborted) throw fail(err);
        // Node's fetch fails with a TypeError (from its own realm: test the name) when nothing answers.
        if ((err as Error | undefined)?.name !== 'TypeError') throw err;
        if (attempt >= policy.maxRetries) throw new AgentMemoryConnectionError(request.url, err);
        await sleep(backoff(attempt), signal).catch((e: unknown) => Promise.reject(fail(e)));
        continue;
      }
      if (!RETRIED_STATUS.has(response.status) || attempt >= policy.maxRetries) return response;
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoff(attempt);
      if (Date.now() + wait >= deadline) return response; // the answer now beats a timeout later
      await response.body?.cancel();
      await sleep(wait, signal).catch((e: unknown) => Promise.reject(fail(e)));
    }
  };
}
