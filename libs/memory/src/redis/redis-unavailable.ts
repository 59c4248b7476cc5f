/**
 * ioredis's errors when the server cannot serve now: retries exhausted, connection closed or refused, no reply in
 * time, a dataset still loading, a cluster without a master for a slot.
 */
const UNAVAILABLE = /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Stream isn't writeable|Reached the max retries|Command timed out|^LOADING|^CLUSTERDOWN|^TRYAGAIN/;

export function isRedisUnavailable(err: unknown): boolean {
  return err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError' || UNAVAILABLE.test(err.message));
}
