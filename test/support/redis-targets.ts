import { RedisCluster } from './redis-cluster';
import { RedisServer } from './redis-server';
import type { TestRedis } from './test-redis';

/** What the parameterised suites run on: a private redis-server, and a private cluster of 3 masters and 3 replicas. */
export const REDIS_TARGETS: { name: string; make: () => TestRedis }[] = [
  { name: 'a single Redis', make: () => new RedisServer() },
  { name: 'a Redis Cluster (3 masters, 3 replicas)', make: () => new RedisCluster() },
];
