import type { RedisClient } from '../redis/create-redis';
import { MirroredVectorIndex } from './in-process/mirrored-vector-index';
import { RediSearchIndex } from './redisearch/redisearch-index';
import type { IndexLogger, VectorBackend, VectorIndex, VectorIndexOptions } from './vector-index';

/** Builds and initialises the configured backend; VECTOR_BACKEND=auto picks redisearch when MODULE LIST shows it. */
export async function createVectorIndex(opts: VectorIndexOptions): Promise<VectorIndex> {
  const logger = opts.logger ?? console;
  const wanted = opts.config.VECTOR_BACKEND;
  const backend: VectorBackend = wanted === 'auto' ? ((await hasSearchModule(opts.redis, logger)) ? 'redisearch' : 'hnsw') : wanted;
  logger.log(`vector index: using the ${backend} backend (VECTOR_BACKEND=${wanted})`);
  const index = backend === 'redisearch' ? new RediSearchIndex(opts) : new MirroredVectorIndex(backend, opts);
  await index.init();
  return index;
}

/** True when the server has the search module (Redis Stack, Redis 8); MODULE LIST can be denied by ACLs. */
export async function hasSearchModule(redis: RedisClient, logger: IndexLogger): Promise<boolean> {
  try {
    const modules = (await redis.call('MODULE', 'LIST')) as unknown[][];
    return modules.some((m) => {
      const at = m.findIndex((v) => String(v) === 'name');
      return at >= 0 && /^(search|ft)$/i.test(String(m[at + 1]));
    });
  } catch (err) {
    logger.warn(`vector index: MODULE LIST failed (${(err as Error).message}); assuming no search module`);
    return false;
  }
}
