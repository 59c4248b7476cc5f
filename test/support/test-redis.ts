import type { RedisClient } from '@app/memory/redis/redis-endpoint';

/** A private Redis for a suite, a single server or a cluster: suites written against this run on either. */
export interface TestRedis {
  readonly kind: 'single' | 'cluster';
  start(): Promise<unknown>;
  stop(): Promise<void>;
  /** REDIS_URL or REDIS_CLUSTER_NODES, for loadConfig and child processes. */
  readonly env: Record<string, string>;
  /** A new client (the caller disconnects it). */
  client(): RedisClient;
}

/** A suite's Redis: a TestRedis, or (as the older suites pass it) the URL of a single Redis. */
export type RedisTarget = TestRedis | string;

export const targetEnv = (target: RedisTarget): Record<string, string> => (typeof target === 'string' ? { REDIS_URL: target } : target.env);
