import { masters, type RedisClient } from './redis-endpoint';

/** Runs one Redis step of a long read; a caller can retry a step there without starting the read over. */
export type ReadStep = <T>(step: () => Promise<T>) => Promise<T>;

export const runOnce: ReadStep = (step) => step();

/** Keys matching `pattern`, in batches: SCAN on a single Redis, on every master of a cluster. */
export async function* scanKeys(redis: RedisClient, pattern: string, count = 500, run: ReadStep = runOnce): AsyncGenerator<string[]> {
  for (const node of await run(() => masters(redis))) {
    let cursor = '0';
    do {
      const [next, keys] = await run(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', count));
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
