import type { RedisClient } from '@app/memory/redis/create-redis';
import { toMap } from '@app/memory/vector/redisearch/redisearch-index';

const NO_INDEX = /unknown index name|no such index/i;

/**
 * FT.INFO says an index has scanned the hashes that existed when it was created: `indexing` is 0 and
 * `percent_indexed` is 1 (RediSearch 2.x reports both; a server without percent_indexed counts by indexing).
 */
export function scanComplete(info: Record<string, unknown>): boolean {
  return Number(info.indexing) === 0 && Number(info.percent_indexed ?? 1) >= 1;
}

/** FT.DROPINDEX without DD: the index goes, the hashes stay; nothing to do when there is no index. */
export async function dropIndexKeepingHashes(redis: RedisClient, name: string): Promise<void> {
  try {
    await redis.call('FT.DROPINDEX', name);
  } catch (err) {
    if (!NO_INDEX.test((err as Error).message)) throw err;
  }
}

/** Polls FT.INFO until the index's background scan is complete; its num_docs then. */
export async function untilScanned(redis: RedisClient, name: string, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = toMap((await redis.call('FT.INFO', name)) as unknown[]);
    if (scanComplete(info)) return Number(info.num_docs);
    if (Date.now() > deadline) throw new Error(`${name} is still indexing after ${timeoutMs / 1000} s (percent_indexed ${String(info.percent_indexed)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
