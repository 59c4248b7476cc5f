import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

/**
 * Redis can lose writes it acknowledged (appendfsync everysec on a host crash, a failover to a lagging replica).
 * Emulated here by restarting from an earlier snapshot: the seqs of the lost turns are then given again, to new
 * turns, under the same keys. The in-process index must notice and rebuild, not keep the lost turns' vectors for
 * the reused keys.
 */
describe('Redis rolled back to an earlier snapshot', () => {
  const redis = new RedisServer(['--save', '', '--appendonly', 'no']);
  let rs: ReliabilityStack;

  useReliabilityStack(redis, { VECTOR_BACKEND: 'hnsw' }, (stack) => {
    rs = stack;
  });

  const write = async (words: string[]) => {
    const res = await rs.call('POST', '/v1/sessions/fruit/turns?wait=true', { turns: words.map((w) => ({ role: 'user', content: `I bought ${w} at the market` })) });
    expect(res.status).toBe(200);
  };
  const search = async (q: string) =>
    ((await (await rs.call('GET', `/v1/sessions/fruit/memories?q=${encodeURIComponent(q)}&k=3`)).json()) as { memories: { content: string }[] }).memories.map((m) => m.content);

  it('rebuilds its index when the change log goes back in time, so reused keys answer with their new turns', async () => {
    await write(['apples', 'green apples', 'red apples']);
    const client = new Redis(redis.url);
    await client.save();
    client.disconnect();
    copyFileSync(join(redis.dir, 'dump.rdb'), join(redis.dir, 'before-cherries.rdb'));

    await write(['cherries', 'sour cherries', 'black cherries']);
    expect((await search('cherries')).every((c) => c.includes('cherries'))).toBe(true);

    // Acknowledged cherries lost: back to the snapshot taken before them.
    await redis.stop(true);
    copyFileSync(join(redis.dir, 'before-cherries.rdb'), join(redis.dir, 'dump.rdb'));
    await redis.start();
    await waitUntil('the API writes again after the restart', async () => {
      const res = await rs.call('POST', '/v1/sessions/probe/turns?wait=true', { role: 'user', content: 'probe' }).catch(() => undefined);
      return res?.status === 200;
    }, 30_000, () => rs.logs.tail());

    await write(['bananas', 'ripe bananas', 'green bananas']); // seqs 4-6 again: the cherries' keys
    expect(await search('bananas')).toEqual(expect.arrayContaining(['I bought bananas at the market', 'I bought ripe bananas at the market', 'I bought green bananas at the market']));
    expect((await search('cherries')).some((c) => c.includes('cherries'))).toBe(false);

    const retriever = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('retriever'))![1];
    expect(metricValue(await scrape(retriever), 'agent_memory_index_rebuilds_total', { reason: 'rolled_back' })).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
