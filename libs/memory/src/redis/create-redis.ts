import Redis, { type Cluster } from 'ioredis';

/** A single Redis or a Redis Cluster: the store and the indexes are written for both. */
export type RedisClient = Redis | Cluster;

/**
 * The process's request-path client: it gives up after two retries so callers fail fast when Redis is down; and,
 * given a `commandTimeout`, it fails a command that gets no reply in time (a hung Redis keeps its connection open,
 * so only a deadline notices it). Commands issued together (hits across sessions) are all on the wire before the
 * first reply, so they cost one round trip; auto-pipelining is off because its batches wait for each other, which
 * doubles the wait on a hung Redis.
 */
export function createRedis(url: string, commandTimeout?: number): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, commandTimeout, connectionName: 'agent-memory' });
}

/**
 * A connection of its own for a blocking command (XREAD BLOCK): it waits through reconnects instead of failing, and
 * has no command timeout, since a blocking read may wait longer than one.
 */
export function duplicateForBlocking(redis: RedisClient, connectionName: string): RedisClient {
  const options = { maxRetriesPerRequest: null, commandTimeout: undefined, connectionName };
  return 'nodes' in redis ? redis.duplicate(undefined, { redisOptions: options }) : redis.duplicate(options);
}
