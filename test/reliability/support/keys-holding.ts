import Redis, { Cluster } from 'ioredis';
import { type RedisTarget } from '../../support/test-redis';

/** Every key of a private Redis (each master of a cluster) whose value (any type, any field) contains `text`. */
export async function keysHolding(target: RedisTarget, text: string): Promise<string[]> {
  const client = typeof target === 'string' ? new Redis(target) : target.client();
  const found: string[] = [];
  try {
    // A cluster client knows no node before it is ready: scanning then would find nothing, and prove nothing.
    if (client instanceof Cluster && client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    for (const node of client instanceof Cluster ? client.nodes('master') : [client as Redis]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const type = await node.type(key);
          const values: unknown =
            type === 'string' ? await node.get(key)
            : type === 'hash' ? await node.hgetall(key)
            : type === 'list' ? await node.lrange(key, 0, -1)
            : type === 'set' ? await node.smembers(key)
            : type === 'zset' ? await node.zrange(key, 0, -1)
            : type === 'stream' ? await node.xrange(key, '-', '+')
            : '';
          if (JSON.stringify(values).includes(text)) found.push(key);
        }
      } while (cursor !== '0');
    }
    return found;
  } finally {
    client.disconnect();
  }
}
