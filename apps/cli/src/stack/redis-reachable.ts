import { checkRedis } from '@app/memory/redis/check-redis';
import { connectRedis, type RedisEndpoint } from '@app/memory/redis/redis-endpoint';

/** Whether Redis answers at `endpoint` within a second or two (a cluster: with every slot served). */
export async function redisReachable(endpoint: RedisEndpoint): Promise<boolean> {
  const client = connectRedis(endpoint, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // the failed connect is the answer, not an error to report
  try {
    await client.connect();
    await checkRedis(client);
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
