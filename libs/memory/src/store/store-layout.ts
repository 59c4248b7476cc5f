import { StoreLayoutError } from '../errors/store-layout.error';
import type { RedisClient } from '../redis/create-redis';
import { KeySchema, STORE_LAYOUT } from '../redis/key-schema';

/** The change-log stream of layout 1 (one stream, no hash tags): its presence marks a store to migrate. */
export const v1Changelog = (keys: KeySchema) => `${keys.prefix}-sys:changelog`;

/**
 * Refuses to run on a store of another layout (it would read nothing and write beside the old keys), and stamps an
 * empty or new store with this one.
 */
export async function assertLayout(redis: RedisClient, keys: KeySchema): Promise<void> {
  const layout = await redis.get(keys.layout);
  if (layout === String(STORE_LAYOUT)) return;
  if (layout === null && !(await redis.exists(v1Changelog(keys)))) {
    await redis.set(keys.layout, STORE_LAYOUT, 'NX');
    return;
  }
  throw new StoreLayoutError(
    `the store under "${keys.prefix}" has key layout ${layout ?? 1}; this build uses layout ${STORE_LAYOUT}: ` +
      'stop the API, let the embedders finish their queue, then run `npm run cli -- migrate --redis-url <url>`',
  );
}
