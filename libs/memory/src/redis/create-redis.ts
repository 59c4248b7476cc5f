import Redis from 'ioredis';

/**
 * The process's request-path client: it gives up after two retries so callers fail fast when Redis is down, and,
 * given a `commandTimeout`, fails a command that gets no reply in time (a hung Redis keeps its connection open, so
 * only a deadline notices it). A blocking command must not inherit the timeout: duplicate() without it.
 */
export function createRedis(url: string, commandTimeout?: number): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, commandTimeout, connectionName: 'agent-memory' });
}
