import { backOff } from 'exponential-backoff';
import { isRedisUnavailable } from './redis-unavailable';

/**
 * Runs a start-up step that talks to Redis (or one read of an in-process index rebuild), again while Redis cannot
 * serve it (a command timed out on a loaded machine, a refused connection, a dataset still loading), with a doubling
 * delay (0.2 s up to 5 s, about a minute in all); any other error (a wrong layout, a mismatched index) fails at once.
 * A worker that died at start-up for one slow reply stayed dead.
 */
export function retryStartup<T>(what: string, step: () => Promise<T>, logger: { warn(message: string): void }): Promise<T> {
  return backOff(step, {
    numOfAttempts: 16,
    startingDelay: 200,
    maxDelay: 5_000,
    retry: (err: unknown, next: number) => {
      if (!isRedisUnavailable(err)) return false;
      logger.warn(`${what}: ${(err as Error).message}; trying again (attempt ${next})`);
      return true;
    },
  });
}
