import type { RedisOptions } from 'ioredis';
import { connectRedis, isCluster, type RedisClient, type RedisEndpoint } from './redis-endpoint';

export type { RedisClient } from './redis-endpoint';

/**
 * The process's request-path client: it gives up after two retries so callers fail fast when Redis is down; and,
 * given a `commandTimeout`, it fails a command that gets no reply in time (a hung Redis keeps its connection open,
 * so only a deadline notices it). Commands issued together (hits across sessions) are all on the wire before the
 * first reply, so they cost one round trip; auto-pipelining is off because its batches wait for each other, which
 * doubles the wait on a hung Redis (and on a cluster it fails whole batches while a slot moves: see connectRedis).
 * The connection's name (CLIENT LIST) tells an API's ingest thread from its main thread.
 */
export function createRedis(endpoint: RedisEndpoint, commandTimeout?: number, connectionName = 'agent-memory'): RedisClient {
  return connectRedis(endpoint, { maxRetriesPerRequest: 2, commandTimeout, connectionName });
}

/**
 * BullMQ's shared connection (queues, workers; BullMQ duplicates it for its blocking reads). Workers must wait
 * through reconnects and stalls (BullMQ requires maxRetriesPerRequest null of them); the API's queues (which never
 * block: its reply channel has a connection of its own) fail fast, within `commandTimeout`, and the API answers 503.
 */
export function createQueueConnection(endpoint: RedisEndpoint, failFast: boolean, commandTimeout?: number): RedisClient {
  return connectRedis(endpoint, failFast
    ? { maxRetriesPerRequest: 2, commandTimeout, connectionName: 'agent-memory:queues' }
    : { maxRetriesPerRequest: null, connectionName: 'agent-memory:queues' });
}

/**
 * A connection of its own for a blocking command (XREAD BLOCK) or a subscription: it waits through reconnects instead
 * of failing, and has no command timeout, since a blocking read may wait longer than one.
 */
export function duplicateForBlocking(redis: RedisClient, connectionName: string): RedisClient {
  return duplicate(redis, { maxRetriesPerRequest: null, commandTimeout: undefined, connectionName });
}

/**
 * A connection of its own for a probe of Redis (same command timeout as `redis`): its command is not queued behind
 * the process's other commands on a shared socket, so a backlog there is not taken for a Redis that does not answer.
 */
export function duplicateForProbe(redis: RedisClient, connectionName: string): RedisClient {
  return duplicate(redis, { connectionName });
}

function duplicate(redis: RedisClient, options: RedisOptions): RedisClient {
  return isCluster(redis)
    ? redis.duplicate(undefined, { redisOptions: { ...redis.options.redisOptions, ...options } })
    : redis.duplicate(options);
}
