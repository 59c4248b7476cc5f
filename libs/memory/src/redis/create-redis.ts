import Redis, { RedisOptions } from 'ioredis';

/**
 * One way to open a connection. BullMQ workers need `maxRetriesPerRequest: null`
 * (blocking commands must wait through reconnects); request-path clients give up after two retries.
 */
export function createRedis(url: string, role: 'client' | 'bullmq' = 'client', extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'bullmq' ? null : 2,
    connectionName: `agent-memory:${role}`,
    ...extra,
  });
}
