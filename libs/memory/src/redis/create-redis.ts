import Redis from 'ioredis';

/** The process's request-path client: it gives up after two retries so callers fail fast when Redis is down. */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectionName: 'agent-memory' });
}
