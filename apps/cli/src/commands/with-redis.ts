import { createRedis, KeySchema, type MemoryConfig, type RedisClient } from '@app/memory';
import { processConfig } from '@app/memory/config/load-config';
import { describeEndpoint, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { resolveRedisUrl } from '../config/cli-config';

export const REDIS_URL_HELP = 'the Redis of the API (default: the cluster of REDIS_CLUSTER_NODES, or REDIS_URL if set, else the running `npm run stack`\'s; otherwise it is required)';

/**
 * Runs one action against an explicitly chosen Redis (never whatever answers on 6379): the cluster of
 * REDIS_CLUSTER_NODES, or a single Redis (--redis-url, REDIS_URL, the running stack's); says on stderr which one it
 * was, then closes the connection.
 */
export async function withRedis<T>(redisUrl: string | undefined, run: (redis: RedisClient, keys: KeySchema, config: MemoryConfig) => Promise<T>): Promise<T> {
  const config = processConfig();
  const target = !redisUrl && config.REDIS_CLUSTER_NODES ? { url: undefined, source: 'REDIS_CLUSTER_NODES' } : resolveRedisUrl(redisUrl);
  const endpoint = redisEndpoint(config, target.url);
  console.error(`Redis ${describeEndpoint(endpoint)} (from ${target.source})`);
  const redis = createRedis(endpoint);
  try {
    return await run(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS), config);
  } finally {
    redis.disconnect();
  }
}
