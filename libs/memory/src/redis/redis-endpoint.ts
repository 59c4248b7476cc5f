import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { MemoryConfig } from '../config/memory-config';

/** A single Redis or a Redis Cluster: the store, the queues and the indexes are written for both. */
export type RedisClient = Redis | Cluster;

export interface ClusterNode {
  host: string;
  port: number;
}

/** Where Redis is: one server (REDIS_URL), or the seed nodes of a cluster (REDIS_CLUSTER_NODES). */
export type RedisEndpoint =
  | { cluster: false; url: string }
  | { cluster: true; nodes: ClusterNode[]; auth: Pick<RedisOptions, 'username' | 'password' | 'tls'> };

/** The configured endpoint; `url` (a CLI's --redis-url) names one server and overrides both variables. */
export function redisEndpoint(config: Pick<MemoryConfig, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, url?: string): RedisEndpoint {
  if (url !== undefined || !config.REDIS_CLUSTER_NODES) return { cluster: false, url: url ?? config.REDIS_URL };
  const urls = config.REDIS_CLUSTER_NODES.split(',').map((n) => new URL(n.includes('://') ? n : `redis://${n}`));
  const [first] = urls;
  return {
    cluster: true,
    nodes: urls.map((u) => ({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) })),
    auth: {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
}

/** For logs and the CLI: the URL, or the cluster's seed nodes (never credentials). */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  if (!endpoint.cluster) return endpoint.url.replace(/\/\/[^@/]*@/, '//');
  return `cluster ${endpoint.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

/**
 * Slot moves and failovers are retried inside the client instead of reaching callers: a MOVED or ASK is followed
 * at once, a TRYAGAIN (a multi-key script on a slot half migrated) and a closed connection (a master that died)
 * are retried every 100 ms, up to 60 redirections in all, so a slot migration or a replica's promotion of up to
 * about six seconds is invisible.
 */
const CLUSTER_OPTIONS: ClusterOptions = {
  maxRedirections: 60,
  retryDelayOnTryAgain: 100,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  slotsRefreshTimeout: 2000,
};

/** The only place a connection is made: a Redis at a URL, or a Cluster whose every node connection gets `options`. */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions = {}): RedisClient {
  if (!endpoint.cluster) return new Redis(endpoint.url, options);
  // No auto-pipelining on a cluster: ioredis batches by node and handles MOVED per batch, so while a slot moves a
  // batch fails as a whole ("All keys in the pipeline should belong to the same slots allocation group", ioredis
  // #2075; the reshard test met it). Concurrent commands are still in flight together, one write each.
  return new Cluster(endpoint.nodes, { ...CLUSTER_OPTIONS, lazyConnect: options.lazyConnect, redisOptions: { ...nodeOptions(options), ...endpoint.auth } });
}

/** What applies to each node connection of a cluster: not the cluster's own options. */
const nodeOptions = ({ enableAutoPipelining: _batching, lazyConnect: _cluster, ...rest }: RedisOptions): RedisOptions => rest;

export const isCluster = (redis: RedisClient): redis is Cluster => redis.isCluster;

/**
 * The servers that hold keys: the Redis itself, or every master of a cluster (for SCAN, FLUSHDB, INFO). A cluster
 * client knows its masters only once it has loaded the slots: a command (queued until then) waits for that.
 */
export async function masters(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  if (redis.status !== 'ready') await redis.cluster('INFO');
  return redis.nodes('master');
}
