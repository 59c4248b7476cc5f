/** ioredis's errors when the server cannot be reached: retries exhausted, connection closed or refused, no reply in time. */
const UNAVAILABLE = /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Stream isn't writeable|Reached the max retries|Command timed out/;

export function isRedisUnavailable(err: unknown): boolean {
  return err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError' || UNAVAILABLE.test(err.message));
}
