import Redis from 'ioredis';
import { MemoryConfig } from '@app/memory/config/memory-config';
import { ConfigError } from '@app/memory/errors/config.error';
import { ChangeLogFollower } from '@app/memory/vector/change-log/change-log-follower';
import { ChangeLogReader } from '@app/memory/vector/change-log/change-log-reader';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { ExactIndex } from '@app/memory/vector/in-process/exact-index';
import { HnswIndex } from '@app/memory/vector/in-process/hnsw-index';
import { VectorMirror } from '@app/memory/vector/in-process/vector-mirror';
import { VectorQuery } from '@app/memory/vector/vector-index';
import { RedisServer } from '../support/redis-server';
import { T0, VectorFixture, seededVector, testConfig } from '../support/vector-fixture';

const DIM = 16;
const config: Partial<MemoryConfig> = { EMBEDDING_DIM: DIM };

describe('hnsw backend specifics (real redis-server)', () => {
  const server = new RedisServer();
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis((await server.start()).url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('answers a session holding 0.1% of the vectors exactly as the exact backend does', async () => {
    const hnswFx = new VectorFixture(redis, 'hnsw', config);
    const n = 10_000;
    // 20 bulk sessions and a target session of 10 vectors (0.1%); all near a few shared directions.
    const turns = Array.from({ length: n }, (_, i) => {
      const target = i % 1000 === 0;
      const session = target ? 'target' : `bulk${i % 20}`;
      const v = seededVector(DIM, i % 50);
      seededVector(DIM, 100_000 + i).forEach((x, d) => (v[d] += 0.3 * x));
      return { session, seq: i + 1, turnId: `t${i}`, timestamp: T0 + i, embedding: v };
    });
    for (let i = 0; i < n; i += 2500) await hnswFx.write(turns.slice(i, i + 2500));
    const hnsw = await hnswFx.open();
    const exact = await hnswFx.open({ VECTOR_BACKEND: 'exact' });
    expect(exact.backend).toBe('exact');
    expect(await hnsw.size()).toBe(n); // grew from its initial capacity of 1024
    for (let q = 0; q < 10; q++) {
      const query: Omit<VectorQuery, 'tenant'> = { sessions: ['target'], k: 10, vector: seededVector(DIM, 500 + q) };
      const [h, e] = await Promise.all([hnswFx.search(hnsw, query), hnswFx.search(exact, query)]);
      expect(h.map((x) => [x.key, x.similarity])).toEqual(e.map((x) => [x.key, x.similarity]));
      expect(h).toHaveLength(10);
      expect(h.every((x) => x.turn.session === 'target')).toBe(true);
    }
    await hnswFx.close();
  });

  it('catches up when it starts late, then follows writes and deletes from the change log', async () => {
    const fx = new VectorFixture(redis, 'hnsw', config);
    await fx.write(Array.from({ length: 50 }, (_, i) => ({ session: 'a', seq: i + 1, embedding: seededVector(DIM, i) })));
    const index = await fx.open();
    expect(await index.size()).toBe(50);
    await fx.write(Array.from({ length: 30 }, (_, i) => ({ session: 'b', seq: i + 1, embedding: seededVector(DIM, 100 + i) })));
    expect(await fx.search(index, { k: 100, vector: seededVector(DIM, 1), sessions: ['b'] })).toHaveLength(30);
    await fx.deleteSession('t1', 'a');
    expect(await fx.search(index, { k: 100, vector: seededVector(DIM, 1) })).toHaveLength(30);
    expect(await index.size()).toBe(30);
    await fx.close();
  });

  it('reports as its lag the change-log entries written and not applied yet, none once it has caught up', async () => {
    const fx = new VectorFixture(redis, 'hnsw', config);
    await fx.write(Array.from({ length: 40 }, (_, i) => ({ session: `s${i % 3}`, seq: i + 1, embedding: seededVector(DIM, i) })));
    const follower = new ChangeLogFollower({
      readers: fx.keys.allPartitions.map((p) => new ChangeLogReader(redis, fx.keys.changelog(p))),
      store: fx.store,
      createCore: () => new ExactIndex(new VectorMirror(DIM)),
      logger: { log: () => undefined, warn: () => undefined },
      name: 'lag test',
    });
    expect(await follower.backlog()).toBe(40);
    await follower.start();
    expect(await follower.backlog()).toBe(0);
    expect(follower.core.size).toBe(40);
    await follower.stop();
  });

  it('reports a trimmed change log as a gap, and an intact one as none', async () => {
    const stream = 'gap-test-stream';
    const reader = new ChangeLogReader(redis, stream);
    expect(await reader.position()).toEqual({ id: '0-0', added: 0 });
    for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'op', 'add', 'key', `k${i}`);
    const start = await reader.position();
    expect(start.added).toBe(5);
    for (let i = 5; i < 10; i++) await redis.xadd(stream, '*', 'op', 'add', 'key', `k${i}`);
    const read = await reader.readAfter(start, 100);
    expect(read).toMatchObject({ next: { added: 10 } });
    expect(read.gap).toBeUndefined();
    expect(read.entries.map((e) => (e.op === 'add' ? e.key : ''))).toEqual(['k5', 'k6', 'k7', 'k8', 'k9']);
    await redis.xtrim(stream, 'MAXLEN', 3);
    expect((await reader.readAfter(start, 100)).gap).toBe('trimmed');
    expect((await reader.readAfter(read.next, 100)).gap).toBeUndefined();
    reader.close();
  });

  it('reports a change log that went back in time (Redis lost acknowledged writes) as rolled back', async () => {
    const stream = 'rollback-test-stream';
    const reader = new ChangeLogReader(redis, stream);
    for (let i = 0; i < 10; i++) await redis.xadd(stream, '*', 'op', 'add', 'key', `k${i}`);
    const seen = (await reader.readAfter({ id: '0-0', added: 0 }, 100)).next;
    // A restart from an older snapshot: the stream holds 6 of the 10 entries, then takes new writes after them.
    const kept = await redis.xrange(stream, '-', '+', 'COUNT', 6);
    await redis.del(stream);
    for (const [id, fields] of kept) await redis.xadd(stream, id, ...fields);
    expect((await reader.readAfter(seen, 100)).gap).toBe('rolled_back');
    for (let i = 0; i < 8; i++) await redis.xadd(stream, '*', 'op', 'add', 'key', `new${i}`);
    expect((await reader.readAfter(seen, 100)).gap).toBe('rolled_back'); // more entries than before, but not the same ones
    reader.close();
  });

  it('post-filters an over-fetched graph search when the filter keeps a fair share, and filters in the graph when too few pass', async () => {
    const core = new HnswIndex({
      dim: DIM, m: 16, efConstruction: 200, efRuntime: 64, exactThreshold: 0, logger: { log: () => undefined, warn: () => undefined },
    });
    for (let i = 0; i < 3000; i++) {
      core.add({ key: `k${i}`, tenant: 't1', session: `s${i % 4}`, role: 'user', timestamp: T0 + i, seq: i + 1, embedding: seededVector(DIM, i), content: '' });
    }
    await core.settle();
    const keys = (rs: { key: string }[]) => rs.map((r) => r.key);
    let found = 0;
    let wanted = 0;
    for (let n = 0; n < 20; n++) {
      const vector = seededVector(DIM, 10_000 + n);
      // A quarter of the vectors: 2 * 10 / 0.25 = 80 neighbours fetched without a filter, then filtered.
      const quarter: VectorQuery = { tenant: 't1', sessions: ['s1'], k: 10, mode: 'vector', vector };
      // Half of the sessions, but a window keeping 1% of them: the post-filter finds too few (of 40 fetched, ~0.2
      // pass), so hnswlib filters during the search; without that second step fewer than k would come back.
      const narrow: VectorQuery = { tenant: 't1', sessions: ['s0', 's2'], since: T0 + 1000, until: T0 + 1030, k: 10, mode: 'vector', vector };
      for (const q of [quarter, narrow]) {
        const got = keys(await core.knn(q));
        const truth = keys(core.exact.search(q));
        expect(got).toHaveLength(10);
        expect(got.every((k) => q.sessions!.includes(`s${Number(k.slice(1)) % 4}`))).toBe(true);
        found += got.filter((k) => truth.includes(k)).length;
        wanted += truth.length;
      }
    }
    // Approximate, on uniform random vectors (HNSW's worst case): recall, not equality.
    expect(found / wanted).toBeGreaterThanOrEqual(0.95);
    await core.close();
  });

  it('answers with vectors not yet linked into the graph, and forgets them without touching the graph', async () => {
    const core = new HnswIndex({ dim: DIM, m: 16, efConstruction: 100, efRuntime: 64, exactThreshold: 0, logger: { log: () => undefined, warn: () => undefined } });
    const add = (i: number) => core.add({ key: `k${i}`, tenant: 't1', session: 's', role: 'user', timestamp: T0, seq: 1, embedding: seededVector(DIM, i), content: '' });
    for (let i = 0; i < 300; i++) add(i);
    await core.settle();
    for (let i = 300; i < 400; i++) add(i); // searchable at once, their graph inserts still to come on the graph thread
    expect(core.settled).toBe(false);
    const graphHas = async (i: number) => (await core.knn({ tenant: 't1', k: 1, mode: 'vector', vector: seededVector(DIM, i) }))[0]?.key === `k${i}`;
    expect(await graphHas(350)).toBe(false);
    const top = async (i: number) => (await core.search({ tenant: 't1', k: 5, mode: 'vector', vector: seededVector(DIM, i) }))[0]?.key;
    expect([await top(350), await top(10)]).toEqual(['k350', 'k10']);
    core.remove('k350');
    core.remove('k10');
    expect([await top(350), await top(10)]).not.toContain('k350');
    expect([await top(350), await top(10)]).not.toContain('k10');
    await core.settle();
    expect(core.settled).toBe(true);
    expect(core.size).toBe(398);
    expect(await graphHas(360)).toBe(true);
    expect(await top(350)).not.toBe('k350');
    await core.close();
  });

  it('keeps the graph inserts off the event loop: a search of a small session is answered while the graph thread links a backlog', async () => {
    const core = new HnswIndex({ dim: DIM, m: 16, efConstruction: 200, efRuntime: 64, exactThreshold: 100, logger: { log: () => undefined, warn: () => undefined } });
    core.add({ key: 'mine', tenant: 'a', session: 'small', role: 'user', timestamp: T0, seq: 1, embedding: seededVector(DIM, 1), content: '' });
    for (let i = 0; i < 5000; i++) core.add({ key: `b${i}`, tenant: 'b', session: `s${i % 8}`, role: 'user', timestamp: T0, seq: 1, embedding: seededVector(DIM, 100 + i), content: '' });
    const settling = core.settle();
    // Answered on this thread from the mirror, while the backlog is still being linked elsewhere.
    expect((await core.search({ tenant: 'a', sessions: ['small'], k: 1, mode: 'vector', vector: seededVector(DIM, 1) }))[0].key).toBe('mine');
    expect(core.settled).toBe(false);
    // A graph search of the flooding tenant is answered between the thread's chunks, not after the backlog.
    const hits = await core.search({ tenant: 'b', k: 3, mode: 'vector', vector: seededVector(DIM, 150) });
    expect(hits[0].key).toBe('b50');
    expect(core.settled).toBe(false);
    await settling;
    expect(core.settled).toBe(true);
    await core.close();
  });

  it('falls back to the exact scan when the HNSW search throws, logging and reporting it', async () => {
    const warnings: string[] = [];
    const fallbacks: unknown[] = [];
    const core = new HnswIndex({
      dim: DIM, m: 16, efConstruction: 100, efRuntime: 64, exactThreshold: 0,
      logger: { log: () => undefined, warn: (m) => warnings.push(m) },
      onFallback: (err) => fallbacks.push(err),
    });
    for (let i = 0; i < 200; i++) {
      core.add({ key: `k${i}`, tenant: 't1', session: 's', role: 'user', timestamp: T0, seq: 1, embedding: seededVector(DIM, i), content: '' });
    }
    await core.settle();
    const q: VectorQuery = { tenant: 't1', k: 5, mode: 'vector', vector: seededVector(DIM, 7) };
    const expected = core.exact.search(q);
    expect((await core.search(q)).map((r) => r.key)).toEqual(expected.map((r) => r.key));
    expect(fallbacks).toHaveLength(0);
    // A broken native index (here: a stand-in graph whose search throws) must not fail the query.
    (core as unknown as { graph: { search: () => Promise<never> } }).graph.search = () => Promise.reject(new Error('hnswlib exploded'));
    expect(await core.search(q)).toEqual(expected);
    expect(fallbacks).toHaveLength(1);
    expect(warnings.join()).toMatch(/HNSW search failed.*hnswlib exploded/);
    await core.close();
  });

  describe('choosing a backend (no modules on this redis-server)', () => {
    it('picks hnsw under VECTOR_BACKEND=auto when MODULE LIST has no search module, and logs the choice', async () => {
      const fx = new VectorFixture(redis, 'hnsw', { VECTOR_BACKEND: 'auto' });
      const logged: string[] = [];
      const index = await createVectorIndex({
        config: testConfig({ KEY_PREFIX: fx.keys.prefix, VECTOR_BACKEND: 'auto' }),
        redis, store: fx.store, logger: { log: (m) => logged.push(m), warn: (m) => logged.push(m) },
      });
      expect(index.backend).toBe('hnsw');
      expect(logged.join('\n')).toMatch(/using the hnsw backend \(VECTOR_BACKEND=auto\)/);
      await index.close();
    });

    it('refuses VECTOR_BACKEND=redisearch on a server without the module, saying why', async () => {
      const fx = new VectorFixture(redis, 'redisearch');
      await expect(fx.open()).rejects.toThrow(ConfigError);
      await expect(fx.open()).rejects.toThrow(/no search module/);
    });
  });
});
