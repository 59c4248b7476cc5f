import Redis, { type Cluster } from 'ioredis';

/** A single Redis or a Redis Cluster: the store and the indexes are written for both. */
export type RedisClient = Redis | Cluster;

/**
 * The process's request-path client: it gives up after two retries so callers fail fast when Redis is down, and
 * auto-pipelines, so reads issued together (hits across sessions) cost one round trip per node.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectionName: 'agent-memory', enableAutoPipelining: true });
}

/** A connection of its own for a blocking command (XREAD BLOCK): it waits through reconnects instead of failing. */
export function duplicateForBlocking(redis: RedisClient, connectionName: string): RedisClient {
  return 'nodes' in redis
    ? redis.duplicate(undefined, { redisOptions: { maxRetriesPerRequest: null, connectionName } })
    : redis.duplicate({ maxRetriesPerRequest: null, connectionName });
}
