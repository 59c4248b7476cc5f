import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { VectorIndexChild } from '../support/vector-child-process';
import { VectorFixture, seededVector } from '../support/vector-fixture';

/** Two hnsw index instances in two processes following one partitioned change log: this test process and a child. */
describe('hnsw backend across processes (real redis-server, child process)', () => {
  const server = new RedisServer();
  let redis: Redis;

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const childFor = async (fx: VectorFixture) => {
    const child = new VectorIndexChild({
      REDIS_URL: server.url, KEY_PREFIX: fx.keys.prefix, EMBEDDING_DIM: '8', CHANGELOG_PARTITIONS: String(fx.keys.partitions),
    });
    await child.ready;
    return child;
  };

  it('lets a search with the tenant positions in another process see a write the moment it completed, in every partition', async () => {
    const fx = new VectorFixture(redis, 'hnsw');
    const child = await childFor(fx);
    try {
      const local = await fx.open();
      const sessions = ['ryw-a', 'ryw-b', 'ryw-c', 'ryw-d', 'ryw-e', 'ryw-f'];
      expect(new Set(sessions.map((s) => fx.keys.partition('t1', s))).size).toBeGreaterThan(1);
      const counts = new Map<string, number>();
      for (let i = 1; i <= 24; i++) {
        const session = sessions[i % sessions.length];
        counts.set(session, (counts.get(session) ?? 0) + 1);
        const [key] = await fx.write([{ session, embedding: seededVector(8, i) }]);
        const query = { tenant: 't1', sessions: [session], k: 100, mode: 'vector' as const, vector: Array.from(seededVector(8, i)), minLogIds: await fx.store.positions('t1') };
        const remote = await child.request({ op: 'search', query });
        expect(remote.error).toBeUndefined();
        expect(remote.keys).toHaveLength(counts.get(session)!);
        expect((remote.keys as string[])[0]).toBe(key);
        const mine = await local.search({ ...query, vector: seededVector(8, i) });
        expect(mine.map((h) => h.key)).toEqual(remote.keys);
      }
    } finally {
      await child.stop();
      await fx.close();
    }
  });

  it('rebuilds a replica that fell behind the trimmed change log, applying the delete it could no longer read', async () => {
    const fx = new VectorFixture(redis, 'hnsw', { CHANGELOG_PARTITIONS: 1, changelogMaxLen: 50 });
    const child = await childFor(fx);
    try {
      await fx.write(Array.from({ length: 10 }, (_, i) => ({ session: 'old', embedding: seededVector(8, 1000 + i) })));
      const search = async (session: string, k: number) =>
        child.request({ op: 'search', query: { tenant: 't1', sessions: [session], k, mode: 'vector', vector: Array.from(seededVector(8, 1)), minLogIds: await fx.store.positions('t1') } });
      expect((await search('old', 50)).keys).toHaveLength(10);

      const stalled = child.request({ op: 'stall', ms: 2500 });
      await new Promise((r) => setTimeout(r, 300));
      await fx.deleteSession('t1', 'old');
      await fx.write(Array.from({ length: 600 }, (_, i) => ({ session: 'new', content: `n${i}`, embedding: seededVector(8, 5000 + i) })));
      const log = await redis.xrange(fx.keys.changelog(0), '-', '+');
      expect(log.length).toBeLessThan(600);
      expect(log.some(([, fields]) => fields.includes('del'))).toBe(false); // the delete was trimmed away unread
      await stalled;

      const old = await search('old', 50);
      expect(old.error).toBeUndefined();
      expect(old.keys).toEqual([]);
      expect((await search('new', 1000)).keys).toHaveLength(600);
      expect(child.stderr.join('\n')).toMatch(/partition 0 \(trimmed\) no longer holds what follows position .*; rebuilding/);
    } finally {
      await child.stop();
      await fx.close();
    }
  });
});
