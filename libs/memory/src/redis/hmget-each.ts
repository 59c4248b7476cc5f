import { isCluster, type RedisClient } from './redis-endpoint';

/**
 * HMGET of the same fields from each key, as strings or, with 'buffers', as Buffers (vectors). On a single Redis they
 * go out as one pipeline, one socket write: a write per command cost the retriever more CPU than anything else it did
 * for a search (a CPU profile under bench:pipeline). On a cluster, one command each, still in flight together (see
 * connectRedis: a pipeline there fails as a whole while a slot moves). Each command keeps the client's command
 * timeout; the first error is thrown.
 */
export async function hmgetEach(redis: RedisClient, keys: string[], fields: readonly string[]): Promise<(string | null)[][]>;
export async function hmgetEach(redis: RedisClient, keys: string[], fields: readonly string[], as: 'buffers'): Promise<(Buffer | null)[][]>;
export async function hmgetEach(redis: RedisClient, keys: string[], fields: readonly string[], as?: 'buffers'): Promise<(string | Buffer | null)[][]> {
  const command = as === 'buffers' ? 'hmgetBuffer' : 'hmget';
  if (isCluster(redis) || keys.length < 2) return Promise.all(keys.map((key) => redis[command](key, ...fields)));
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline[command](key, ...fields);
  return (await pipeline.exec())!.map(([err, values]) => {
    if (err) throw err;
    return values as (string | Buffer | null)[];
  });
}
