import { isCluster, masters, type RedisClient } from './redis-endpoint';

/**
 * Throws unless Redis can serve every key: a single Redis answers PING; a cluster reports every slot served
 * (cluster_state:ok) and each master it routes to answers.
 */
export async function checkRedis(redis: RedisClient): Promise<void> {
  if (!isCluster(redis)) {
    await redis.ping();
    return;
  }
  const info = String(await redis.cluster('INFO'));
  const state = /cluster_state:(\w+)/.exec(info)?.[1];
  if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}`);
  await Promise.all((await masters(redis)).map((node) => node.ping()));
}
