import Redis from 'ioredis';
import { MemoryStore } from '@app/memory/store/memory-store';
import { RedisServer } from '../support/redis-server';
import { VectorIndexChild } from '../support/vector-child-process';
import { T0, VectorFixture, seededVector } from '../support/vector-fixture';

/** Two hnsw index instances in two processes following one change log: this test process and a child. */
describe('hnsw backend across processes (real redis-server, child process)', () => {
  const server = new RedisServer();
  let redis: Redis;
  let fx: VectorFixture;
  let child: VectorIndexChild;

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    fx = new VectorFixture(redis, 'hnsw');
    child = new VectorIndexChild({ REDIS_URL: server.url, KEY_PREFIX: fx.keys.prefix, EMBEDDING_DIM: '8' });
    await child.ready;
  });
  afterAll(async () => {
    await child.stop();
    await fx.close();
    redis.disconnect();
    await server.stop();
  });

  it('lets a search with minLogId in another process see a write the moment it completed', async () => {
    const local = await fx.open();
    for (let i = 1; i <= 25; i++) {
      const [res] = await fx.store.write([{
        tenant: 't1', session: 'ryw', seq: i, turnId: `ryw-${i}`, role: 'user', content: `turn ${i}`,
        timestamp: T0 + i, tokenCount: 2, embedding: seededVector(8, i),
      }]);
      // Hybrid: the new turn's text and vector must both be searchable in the other process.
      const query = { tenant: 't1', sessions: ['ryw'], k: 100, text: `turn ${i}`, vector: Array.from(seededVector(8, i)), minLogId: res.logId };
      const remote = await child.request({ op: 'search', query });
      expect(remote.error).toBeUndefined();
      expect(remote.keys).toHaveLength(i);
      expect((remote.keys as string[])[0]).toBe(res.key);
      const mine = await local.search({ ...query, vector: seededVector(8, i) });
      expect(mine.map((h) => h.key)).toEqual(remote.keys);
    }
  });

  it('rebuilds a replica that fell behind the trimmed change log, applying the delete it could no longer read', async () => {
    await fx.write(Array.from({ length: 10 }, (_, i) => ({ session: 'old', seq: i + 1, embedding: seededVector(8, 1000 + i) })));
    const [[lastOld]] = await redis.xrevrange(fx.keys.changelog, '+', '-', 'COUNT', 1);
    const oldQuery = { tenant: 't1', sessions: ['old'], k: 50, text: 'turn', vector: Array.from(seededVector(8, 1)) };
    expect((await child.request({ op: 'search', query: { ...oldQuery, minLogId: lastOld } })).keys).toHaveLength(10);

    const stalled = child.request({ op: 'stall', ms: 2500 });
    await new Promise((r) => setTimeout(r, 300));
    const trimming = new MemoryStore(redis, fx.keys, 50);
    await trimming.deleteSession('t1', 'old');
    const results = await trimming.write(Array.from({ length: 600 }, (_, i) => ({
      tenant: 't1', session: 'new', seq: i + 1, turnId: `new-${i}`, role: 'user' as const, content: `n${i}`,
      timestamp: T0 + i, tokenCount: 1, embedding: seededVector(8, 5000 + i),
    })));
    const log = await redis.xrange(fx.keys.changelog, '-', '+');
    expect(log.length).toBeLessThan(600);
    expect(log.some(([, fields]) => fields.includes('del'))).toBe(false); // the delete was trimmed away unread
    await stalled;

    const minLogId = results.at(-1)!.logId;
    for (const mode of ['vector', 'text', 'hybrid']) {
      const old = await child.request({ op: 'search', query: { ...oldQuery, mode, minLogId } });
      expect(old.error).toBeUndefined();
      expect(old.keys).toEqual([]);
    }
    const all = await child.request({ op: 'search', query: { tenant: 't1', sessions: ['new'], k: 1000, mode: 'vector', vector: Array.from(seededVector(8, 2)), minLogId } });
    expect(all.keys).toHaveLength(600);
    // The rebuilt full-text index holds the new session's contents.
    const text = await child.request({ op: 'search', query: { tenant: 't1', sessions: ['new'], k: 10, mode: 'text', text: 'n599', minLogId } });
    expect(text.keys).toEqual([results.at(-1)!.key]);
    expect(child.stderr.join('\n')).toMatch(/trimmed past position .*; rebuilding/);
  });
});
