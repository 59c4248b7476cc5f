import Redis from 'ioredis';
import { DimensionMismatchError } from '@app/memory/errors/dimension-mismatch.error';
import { IndexSchemaMismatchError } from '@app/memory/errors/index-schema-mismatch.error';
import { InvalidInputError } from '@app/memory/errors/invalid-input.error';
import { MemoryRepository } from '@app/memory/store/memory-repository';
import { SearchReplyError } from '@app/memory/errors/search-reply.error';
import { connectRedis, type RedisClient, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { VectorBackend, VectorHit } from '@app/memory/vector/vector-index';
import { generationOf } from '@app/memory/generation/embedding-generation';
import { RedisCluster } from '../support/redis-cluster';
import { RedisServer } from '../support/redis-server';
import { indexingFailures, RediSearchIndex, toMap, vectorParamsReported } from '@app/memory/vector/redisearch/redisearch-index';
import { TURN_FIELDS as F } from '@app/memory/store/turn';
import { vectorToBuffer } from '@app/memory/store/vector-bytes';
import { waitUntil } from '../reliability/support/wait-until';
import { T0, VectorFixture, axis, seededVector, testConfig } from '../support/vector-fixture';

/**
 * One suite for every backend, on a single Redis and on a cluster. exact and hnsw run on a private redis-server and
 * on a private 3-master cluster (hnsw with HNSW_EXACT_THRESHOLD=0, so every search goes through the filtered graph);
 * redisearch runs only against REDIS_STACK_URL (Redis Stack / Redis 8) and REDIS_STACK_CLUSTER_NODES (a Redis 8
 * cluster, where every FT command goes through the search coordinator): both are disposable and run outside CI.
 */
const stackUrl = process.env.REDIS_STACK_URL;
const stackCluster = process.env.REDIS_STACK_CLUSTER_NODES;

type Opened = { redis: RedisClient; close: () => Promise<void> };
const connected = (redis: RedisClient, after: () => Promise<void> = async () => undefined): Opened => ({ redis, close: async () => (redis.disconnect(), after()) });
/** The private cluster is shared by the suites that run on it: started by the first, stopped after the last. */
const cluster = new RedisCluster({ replicas: 0 });
let clusterStarted: Promise<unknown> | undefined;
afterAll(async () => {
  if (clusterStarted) await cluster.stop();
});

const runs: { backend: VectorBackend; on: string; open: () => Promise<Opened>; hnswExactThreshold?: number }[] = [];
for (const backend of ['exact', 'hnsw'] as const) {
  const hnswExactThreshold = backend === 'hnsw' ? 0 : undefined;
  runs.push({ backend, on: 'a single Redis', hnswExactThreshold, open: async () => {
    const server = await new RedisServer().start();
    return connected(server.client(), () => server.stop());
  } });
  runs.push({ backend, on: 'a cluster', hnswExactThreshold, open: async () => {
    await (clusterStarted ??= cluster.start());
    return connected(cluster.client());
  } });
}
if (stackUrl) runs.push({ backend: 'redisearch', on: 'REDIS_STACK_URL', open: async () => connected(connectRedis(redisEndpoint({ REDIS_URL: stackUrl }))) });
if (stackCluster) {
  runs.push({ backend: 'redisearch', on: 'REDIS_STACK_CLUSTER_NODES', open: async () => connected(connectRedis(redisEndpoint({ REDIS_URL: '', REDIS_CLUSTER_NODES: stackCluster }))) });
}
for (const [name, value, what] of [['REDIS_STACK_URL', stackUrl, 'a Redis Stack / Redis 8 server'], ['REDIS_STACK_CLUSTER_NODES', stackCluster, 'a Redis 8 cluster (host:port,...)']]) {
  if (value) continue;
  console.warn(`vector-index conformance: ${name} is not set, so the redisearch backend was NOT tested there (skipped, not passed).`);
  describe(`VectorIndex conformance: redisearch on ${name}`, () => {
    it.skip(`SKIPPED: set ${name} to ${what} to run this suite against RediSearch`, () => undefined);
  });
}

const keysOf = (hits: VectorHit[]) => hits.map((h) => h.key);

describe.each(runs)('VectorIndex conformance: $backend on $on', ({ backend, open, hnswExactThreshold }) => {
  let opened: Opened;
  let redis: RedisClient;
  let fx: VectorFixture;

  beforeAll(async () => {
    opened = await open();
    redis = opened.redis;
  }, 60_000);
  afterAll(() => opened?.close());
  beforeEach(() => {
    fx = new VectorFixture(redis, backend, hnswExactThreshold === undefined ? {} : { HNSW_EXACT_THRESHOLD: hnswExactThreshold });
  });
  afterEach(() => fx.close());

  it('answers an empty index with no hits', async () => {
    const index = await fx.open();
    expect(index.backend).toBe(backend);
    expect(await index.size()).toBe(0);
    expect(await fx.search(index, { k: 5, vector: axis(8, 0) })).toEqual([]);
  });

  it('orders hits by similarity, best first, with 1 - cosine distance and the stored turn', async () => {
    const index = await fx.open();
    const keys = await fx.write([0.1, 2, 0.5, 1].map((tilt, i) => ({ seq: i + 1, embedding: axis(8, 0, tilt), content: `c${i}` })));
    const hits = await fx.search(index, { k: 4, vector: axis(8, 0) });
    expect(keysOf(hits)).toEqual([keys[0], keys[2], keys[3], keys[1]]);
    const expected = [0.1, 0.5, 1, 2].map((t) => 1 / Math.sqrt(1 + t * t));
    hits.forEach((h, i) => expect(h.similarity).toBeCloseTo(expected[i], 4));
    expect(hits[0].turn).toMatchObject({ key: keys[0], tenant: 't1', session: 's1', seq: 1, role: 'user', content: 'c0', timestamp: T0 });
  });

  it('keeps a second embedding generation beside the first: its own field and dimension, filled by re-embedding; retired, it leaves the hashes', async () => {
    const first = await fx.open();
    const keys = await fx.write([0, 1, 2].map((i) => ({ seq: i + 1, embedding: axis(8, i), content: `c${i}` })));
    const second = generationOf({ provider: 'local', model: 'local', dim: 4 });
    const next = await fx.open({}, second);
    // Nothing is in the new generation before it is re-embedded.
    expect(await fx.search(next, { k: 5, vector: axis(4, 0) })).toEqual([]);
    // Re-embedded in reverse order: the two generations rank the same turns differently.
    expect(await fx.store.setVectors(second.field, keys.map((key, i) => ({ key, vector: axis(4, 2 - i, 0.1) })))).toBe(3);
    expect(keysOf(await fx.search(next, { k: 3, vector: axis(4, 0) }))[0]).toBe(keys[2]);
    expect(keysOf(await fx.search(first, { k: 3, vector: axis(8, 0) }))[0]).toBe(keys[0]);
    await expect(fx.search(next, { k: 3, vector: axis(8, 0) })).rejects.toThrow(DimensionMismatchError);
    await next.retire();
    expect(keysOf(await fx.search(first, { k: 3, vector: axis(8, 0) }))[0]).toBe(keys[0]);
    expect(await redis.hexists(keys[0], second.field)).toBe(1);
  });

  it('isolates tenants', async () => {
    const index = await fx.open();
    const [mine] = await fx.write([{ tenant: 't1' }]);
    await fx.write([{ tenant: 't2', embedding: axis(8, 0) }, { tenant: 'T1', seq: 2 }]);
    expect(keysOf(await fx.search(index, { k: 10, vector: axis(8, 0) }))).toEqual([mine]);
    expect(await fx.search(index, { tenant: 'nobody', k: 10, vector: axis(8, 0) })).toEqual([]);
  });

  it('filters by one session, several sessions, or all of the tenant\'s', async () => {
    const index = await fx.open();
    const [a, b, c] = await fx.write(['sa', 'sb', 'sc'].map((session, i) => ({ session, seq: 1, embedding: axis(8, 0, i * 0.1) })));
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, sessions: ['sb'] }))).toEqual([b]);
    expect(keysOf(await fx.search(index, { ...q, sessions: ['sc', 'sa'] }))).toEqual([a, c]);
    expect(keysOf(await fx.search(index, q))).toEqual([a, b, c]);
    expect(await fx.search(index, { ...q, sessions: [] })).toEqual([]);
    expect(await fx.search(index, { ...q, sessions: ['missing'] })).toEqual([]);
  });

  it('filters by time window with inclusive bounds', async () => {
    const index = await fx.open();
    const keys = await fx.write([0, 1, 2, 3, 4].map((i) => ({ seq: i + 1, timestamp: T0 + i * 1000, embedding: axis(8, 0, i * 0.1) })));
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, since: T0 + 1000, until: T0 + 3000 }))).toEqual(keys.slice(1, 4));
    expect(keysOf(await fx.search(index, { ...q, since: T0 + 3000 }))).toEqual(keys.slice(3));
    expect(keysOf(await fx.search(index, { ...q, until: T0 }))).toEqual(keys.slice(0, 1));
  });

  it('filters by role, one or several', async () => {
    const index = await fx.open();
    const [u, a, s] = await fx.write([0, 1, 2].map((i) => ({ seq: i + 1, role: (['user', 'assistant', 'system'] as const)[i], embedding: axis(8, 0, i * 0.1) })));
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, roles: ['assistant'] }))).toEqual([a]);
    expect(keysOf(await fx.search(index, { ...q, roles: ['user'] }))).toEqual([u]);
    expect(keysOf(await fx.search(index, { ...q, roles: ['system', 'user'] }))).toEqual([u, s]);
    expect(await fx.search(index, { ...q, roles: [] })).toEqual([]);
  });

  it('filters by user across the user\'s sessions, and never returns another user\'s or an unowned turn', async () => {
    const index = await fx.open();
    const [a1, a2, b1] = await fx.write([
      { session: 'a-1', user: 'alice', embedding: axis(8, 0, 0.3) },
      { session: 'a-2', user: 'alice', embedding: axis(8, 0, 0.1) },
      { session: 'b-1', user: 'bob', embedding: axis(8, 0) },
      { session: 'none', embedding: axis(8, 0) },
      { tenant: 't2', session: 'a-1', user: 'alice', embedding: axis(8, 0) },
    ]);
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, users: ['alice'] }))).toEqual([a2, a1]);
    expect(keysOf(await fx.search(index, { ...q, users: ['bob', 'alice'] }))).toEqual([b1, a2, a1]);
    expect(keysOf(await fx.search(index, { ...q, users: ['alice'], sessions: ['a-1', 'b-1'] }))).toEqual([a1]);
    expect(await fx.search(index, { ...q, users: ['Alice'] })).toEqual([]);
    expect(await fx.search(index, { ...q, users: [] })).toEqual([]);
    await fx.deleteSession('t1', 'a-2');
    expect(keysOf(await fx.search(index, { ...q, users: ['alice'] }))).toEqual([a1]);
  });

  it('filters by tags: a turn passes with any of the tags, values with separators and query syntax included', async () => {
    const index = await fx.open();
    const [pref, both, url] = await fx.write([
      { seq: 1, tags: ['preference'], embedding: axis(8, 0, 0.3) },
      { seq: 2, tags: ['travel', 'preference'], embedding: axis(8, 0, 0.1) },
      { seq: 3, tags: ['src:web/form-1.v2'], embedding: axis(8, 0, 0.2) },
      { seq: 4, embedding: axis(8, 0) },
    ]);
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, tags: ['preference'] }))).toEqual([both, pref]);
    expect(keysOf(await fx.search(index, { ...q, tags: ['travel'] }))).toEqual([both]);
    expect(keysOf(await fx.search(index, { ...q, tags: ['src:web/form-1.v2', 'travel'] }))).toEqual([both, url]);
    expect(await fx.search(index, { ...q, tags: ['src:web/form-1'] })).toEqual([]);
    expect(await fx.search(index, { ...q, tags: ['Preference'] })).toEqual([]);
    expect(await fx.search(index, { ...q, tags: [] })).toEqual([]);
  });

  it('combines user, role, tag and time filters', async () => {
    const index = await fx.open();
    const keys = await fx.write(Array.from({ length: 24 }, (_, i) => ({
      session: `s${i % 3}`, user: i % 3 === 2 ? 'bob' : 'alice', role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      tags: i % 4 === 0 ? ['pinned'] : undefined, timestamp: T0 + i * 1000, embedding: axis(8, 0, i * 0.02),
    })));
    const hits = await fx.search(index, { k: 10, vector: axis(8, 0), users: ['alice'], roles: ['user'], tags: ['pinned'], since: T0 + 1000 });
    expect(keysOf(hits)).toEqual([keys[4], keys[12], keys[16]]);
  });

  it('keeps extracted memories beside the turns, told apart by kind, kept current and forgotten', async () => {
    const index = await fx.open();
    const [turn, unowned] = await fx.write([
      { session: 'a-1', user: 'alice', content: 'I live in Paris', embedding: axis(8, 0, 0.2) },
      { session: 'none', content: 'my order is 5521', embedding: axis(8, 0, 0.4) },
    ]);
    const memories = new MemoryRepository(redis, fx.keys, fx.store);
    const alice = MemoryRepository.scopeOf('t1', 'a-1', 'alice');
    const anon = MemoryRepository.scopeOf('t1', 'none');
    const memory = (id: string, content: string, embedding: Float32Array) =>
      ({ op: 'add' as const, id, content, type: 'fact' as const, entities: [], sources: [{ session: 'a-1', turnId: 'x' }], embedding });
    const m1 = MemoryRepository.memoryId(alice, 'a-1', 1, 0);
    const m2 = MemoryRepository.memoryId(anon, 'none', 1, 0);
    await memories.apply(alice, 'a-1', 0, 1, [memory(m1, 'The user lives in Paris.', axis(8, 0, 0.1))]);
    await memories.apply(anon, 'none', 0, 1, [{ ...memory(m2, 'The order number is 5521.', axis(8, 0, 0.3)), sources: [{ session: 'none', turnId: 'y' }] }]);
    const [k1, k2] = [fx.keys.memory(alice, m1), fx.keys.memory(anon, m2)];
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, q))).toEqual([k1, turn, k2, unowned]);
    expect(keysOf(await fx.search(index, { ...q, kinds: ['memory'] }))).toEqual([k1, k2]);
    expect(keysOf(await fx.search(index, { ...q, kinds: ['turn'] }))).toEqual([turn, unowned]);
    expect(keysOf(await fx.search(index, { ...q, kinds: ['memory'], users: ['alice'] }))).toEqual([k1]);
    expect(keysOf(await fx.search(index, { ...q, kinds: ['memory'], sessions: ['none'] }))).toEqual([k2]);
    expect(keysOf(await fx.search(index, { mode: 'text', k: 10, text: 'Paris', kinds: ['memory'] }))).toEqual([k1]);
    expect(await fx.search(index, { ...q, kinds: [] })).toEqual([]);
    const [hit] = await fx.search(index, { ...q, kinds: ['memory'], users: ['alice'] });
    expect(hit.turn).toMatchObject({ content: 'The user lives in Paris.', user: 'alice', memory: { id: m1, type: 'fact' } });

    // An update moves the memory's vector and text; forgetting removes it from every ranking.
    await memories.apply(alice, 'a-2', 0, 1, [{ ...memory(m1, 'The user lives in Berlin.', axis(8, 5)), op: 'update' }]);
    expect(keysOf(await fx.search(index, { k: 1, vector: axis(8, 5), kinds: ['memory'] }))).toEqual([k1]);
    expect(keysOf(await fx.search(index, { mode: 'text', k: 10, text: 'Paris', kinds: ['memory'] }))).toEqual([]);
    expect(keysOf(await fx.search(await fx.open(), { ...q, kinds: ['memory'] }))).toEqual([k2, k1]);
    await memories.forgetSession('t1', 'a-1', 'alice', 1);
    await memories.delete(anon, m2);
    expect(keysOf(await fx.search(index, q))).toEqual([turn, unowned]);
    expect(await fx.search(index, { ...q, kinds: ['memory'] })).toEqual([]);
  });

  it('logs the changes of an extraction whose change-log append failed after it applied, when the session is next extracted', async () => {
    const index = await fx.open();
    const memories = new MemoryRepository(redis, fx.keys, fx.store);
    const scope = MemoryRepository.scopeOf('t1', 's1', 'ann');
    const id = MemoryRepository.memoryId(scope, 's1', 1, 0);
    const log = fx.keys.changelog(fx.keys.scopePartition(scope));
    // The stream is not a stream for a moment: the script applies, the append after it fails.
    await redis.set(log, 'not a stream');
    const add = { op: 'add' as const, id, content: 'The user plays the cello.', type: 'fact' as const, entities: [], sources: [{ session: 's1', turnId: 'x' }], embedding: axis(8, 0) };
    await expect(memories.apply(scope, 's1', 0, 1, [add])).rejects.toThrow(/WRONGTYPE/);
    await redis.del(log);
    expect(await memories.watermark(scope, 's1')).toBe(1);
    const q = { k: 10, vector: axis(8, 0), kinds: ['memory' as const] };
    if (backend !== 'redisearch') expect(await fx.search(index, q)).toEqual([]); // RediSearch indexes the hash itself
    await memories.flushLog(scope, 's1');
    expect(keysOf(await fx.search(index, q))).toEqual([fx.keys.memory(scope, id)]);
    expect(await redis.exists(fx.keys.unloggedMemories(scope, 's1'))).toBe(0);
  });

  it('returns every match when k exceeds them, and only k otherwise', async () => {
    const index = await fx.open();
    await fx.write([0, 1, 2].map((i) => ({ seq: i + 1, embedding: axis(8, i % 8, 0.2) })));
    expect(await fx.search(index, { k: 50, vector: axis(8, 0) })).toHaveLength(3);
    expect(await fx.search(index, { k: 2, vector: axis(8, 0) })).toHaveLength(2);
  });

  it('forgets a deleted session', async () => {
    const index = await fx.open();
    const [, keep] = await fx.write([{ session: 'gone', seq: 1 }, { session: 'kept', seq: 1 }]);
    await fx.deleteSession('t1', 'gone');
    expect(await fx.search(index, { k: 10, vector: axis(8, 0), sessions: ['gone'] })).toEqual([]);
    expect(keysOf(await fx.search(index, { k: 10, vector: axis(8, 0) }))).toEqual([keep]);
    expect(await index.size()).toBe(1);
  });

  it('forgets one deleted turn, in the vector and the text rankings, and keeps the rest of its session', async () => {
    const index = await fx.open();
    const [gone, kept] = await fx.write([{ turnId: 'forget-me', content: 'violin recital' }, { turnId: 'keep-me', content: 'violin lessons' }]);
    expect(await fx.store.deleteTurn('t1', 's1', 'forget-me')).toMatchObject({ state: 'stored' });
    expect(keysOf(await fx.search(index, { k: 10, vector: axis(8, 0) }))).toEqual([kept]);
    expect(keysOf(await fx.search(index, { mode: 'text', k: 10, text: 'violin recital' }))).toEqual([kept]);
    expect(keysOf(await fx.search(await fx.open(), { mode: 'hybrid', k: 10, text: 'violin', vector: axis(8, 0) }))).toEqual([kept]);
    expect(gone).not.toBe(kept);
  });

  it('rejects a query vector of the wrong dimension with DimensionMismatchError', async () => {
    const index = await fx.open();
    await fx.write([{}]);
    await expect(fx.search(index, { k: 3, vector: new Float32Array(5) })).rejects.toThrow(DimensionMismatchError);
    await expect(fx.search(index, { k: 3, vector: new Float32Array(5) })).rejects.toThrow(/dimension 5.*expects 8/);
  });

  it('refuses to start over an index or stored vectors of another dimension with IndexSchemaMismatchError', async () => {
    await fx.open();
    await fx.write([{}]);
    await expect(fx.open({ EMBEDDING_DIM: 16 })).rejects.toThrow(IndexSchemaMismatchError);
  });

  it('round-trips unicode content', async () => {
    const index = await fx.open();
    const content = 'naïve café — 日本語のテキスト 🚀 \u0000 "quotes" {braces} | @tag:*';
    await fx.write([{ content }]);
    const [hit] = await fx.search(index, { k: 1, vector: axis(8, 0) });
    expect(hit.turn.content).toBe(content);
  });

  it('gives the same results after a rebuild (a new index instance) as before', async () => {
    const first = await fx.open();
    await fx.write(Array.from({ length: 60 }, (_, i) => ({
      session: `s${i % 4}`, seq: i + 1, timestamp: T0 + i, role: i % 3 === 0 ? 'assistant' : 'user',
      user: `u${i % 2}`, tags: i % 4 === 0 ? ['even'] : ['odd'], embedding: seededVector(8, i),
    })));
    await fx.deleteSession('t1', 's3');
    const queries = [
      { k: 5, vector: seededVector(8, 100) },
      { k: 10, vector: seededVector(8, 101), sessions: ['s0', 's2'] },
      { k: 7, vector: seededVector(8, 102), since: T0 + 10, until: T0 + 40, roles: ['user' as const] },
      { k: 6, vector: seededVector(8, 103), users: ['u1'], tags: ['odd'] },
    ];
    const before = await Promise.all(queries.map((q) => fx.search(first, q)));
    const second = await fx.open();
    expect(await second.size()).toBe(45);
    const after = await Promise.all(queries.map((q) => fx.search(second, q)));
    expect(after.map(keysOf)).toEqual(before.map(keysOf));
    after.flat().forEach((h, i) => expect(h.similarity).toBeCloseTo(before.flat()[i].similarity, 5));
    expect(before.every((hits) => hits.length > 0)).toBe(true);
  });

  describe('full text and hybrid', () => {
    // Contents chosen so that the text and vector rankings disagree: the vector favours axis 0, the text "violin".
    // No two vectors lie at the same distance from axis 0 (seq 1 leans a little towards it, seq 3 not at all):
    // servers order equal distances differently (RediSearch 2.6 and 2.10 do), and a test must not depend on it. Only
    // the puppy is close to axis 0 (the beach leans 0.2 towards it): BM25 on fixed scales is small in a 4-turn corpus,
    // and a second close vector would outscore every text match.
    const corpus = [
      { seq: 1, content: 'I started learning the violin last spring', embedding: axis(8, 3, 0.1, 0) },
      { seq: 2, content: 'We adopted a puppy named Biscuit', embedding: axis(8, 0) },
      { seq: 3, content: 'Violin lessons twice a week: my violin teacher is strict', embedding: axis(8, 4) },
      { seq: 4, content: 'The weather was lovely at the beach', embedding: axis(8, 5, 0.2, 0) },
    ];

    it('text mode ranks by BM25 over the content, stemmed, with stop words ignored', async () => {
      const index = await fx.open();
      const keys = await fx.write(corpus);
      const hits = await fx.search(index, { mode: 'text', k: 10, text: 'What did they say about violins?' });
      expect(keysOf(hits)).toEqual([keys[2], keys[0]]);
      // BM25 / (BM25 + 8): a fixed scale in [0, 1), the same number as the text component.
      expect(hits[0].similarity).toBeLessThan(1);
      expect(hits[1].similarity).toBeGreaterThan(0);
      expect(hits[1].similarity).toBeLessThan(hits[0].similarity);
      expect(hits[0].text).toBe(hits[0].similarity);
      expect(hits[0].turn.content).toBe(corpus[2].content);
      expect(await fx.search(index, { mode: 'text', k: 10, text: 'what is it, and how?' })).toEqual([]);
      expect(await fx.search(index, { mode: 'text', k: 10, text: 'saxophone' })).toEqual([]);
    });

    it('searches the words RediSearch drops by default ("not", "no", "such") and finds only the turns holding them', async () => {
      const index = await fx.open();
      const keys = await fx.write([...corpus, { seq: 5, content: 'I do not eat meat, no such thing', embedding: axis(8, 5) }]);
      for (const text of ['not', 'no', 'such', 'not at all?']) {
        const hits = await fx.search(index, { mode: 'text', k: 10, text });
        expect([text, keysOf(hits)]).toEqual([text, [keys[4]]]);
      }
      // A query of the service's stop words alone has no text clause: no text hits, never every turn.
      expect(await fx.search(index, { mode: 'text', k: 10, text: 'it is what it is' })).toEqual([]);
    });

    it('text mode needs no vector, and applies the tenant, session, window and role filters', async () => {
      const index = await fx.open();
      const [mine, , late, assistant] = await fx.write([
        { seq: 1, content: 'violin' },
        { seq: 1, session: 'other', content: 'violin' },
        { seq: 2, content: 'violin', timestamp: T0 + 5000 },
        { seq: 3, content: 'violin', role: 'assistant' },
      ]);
      await fx.write([{ tenant: 't2', seq: 1, content: 'violin' }, { tenant: 'T1', seq: 1, content: 'violin' }]);
      const q = { mode: 'text' as const, k: 10, text: 'violin' };
      expect(new Set(keysOf(await fx.search(index, { ...q, sessions: ['s1'] })))).toEqual(new Set([mine, late, assistant]));
      expect(keysOf(await fx.search(index, { ...q, sessions: ['s1'], until: T0 + 10, roles: ['user'] }))).toEqual([mine]);
      expect(keysOf(await fx.search(index, { ...q, since: T0 + 5000 }))).toEqual([late]);
      expect(keysOf(await fx.search(index, { ...q, roles: ['assistant'] }))).toEqual([assistant]);
      expect(await fx.search(index, { ...q, tenant: 'nobody' })).toEqual([]);
      expect(await fx.search(index, { ...q, sessions: [] })).toEqual([]);
      expect(await fx.search(index, { ...q, tenant: 't2' })).toHaveLength(1);
    });

    it('hybrid mode (the default) fuses both rankings: the best of each comes back, under the filters', async () => {
      const index = await fx.open();
      const keys = await fx.write(corpus);
      await fx.write([{ tenant: 't2', seq: 1, content: 'violin violin violin', embedding: axis(8, 0) }]);
      const hits = await fx.search(index, { mode: undefined, k: 3, text: 'violin', vector: axis(8, 0) });
      const found = keysOf(hits);
      expect(found).toHaveLength(3);
      expect(found).toEqual(expect.arrayContaining([keys[1], keys[2]]));
      expect(hits.every((h) => h.turn.tenant === 't1')).toBe(true);
      hits.forEach((h, i) => {
        expect(h.similarity).toBeGreaterThanOrEqual(0);
        expect(h.similarity).toBeLessThanOrEqual(1);
        if (i > 0) expect(h.similarity).toBeLessThanOrEqual(hits[i - 1].similarity);
      });
      const vectorOnly = keysOf(await fx.search(index, { k: 3, vector: axis(8, 0) }));
      expect(vectorOnly).not.toContain(keys[2]);
      expect(keysOf(await fx.search(index, { mode: 'hybrid', k: 10, text: 'violin', vector: axis(8, 0), roles: ['assistant'] }))).toEqual([]);
    });

    it('hybrid similarity is the weighted sum of fixed-scale components carried beside it, not scaled to the best hit', async () => {
      const index = await fx.open();
      await fx.write(corpus);
      const hits = await fx.search(index, { mode: 'hybrid', k: 4, text: 'violin', vector: axis(8, 0) });
      for (const h of hits) expect(h.similarity).toBeCloseTo(0.7 * (h.text ?? 0) + 0.3 * (h.vector ?? 0), 5);
      const lone = await fx.search(index, { mode: 'hybrid', k: 1, text: 'violin', vector: axis(8, 4) });
      // The best hit is not 1 by construction: its vector component is 1, its text component below 1.
      expect(lone[0].vector).toBeCloseTo(1, 5);
      expect(lone[0].similarity).toBeLessThan(1);
      // A query whose words match nothing: the hits carry no text component and score the vector share at most.
      for (const h of await fx.search(index, { mode: 'hybrid', k: 4, text: 'saxophone', vector: axis(8, 0) })) {
        expect(h.text).toBeUndefined();
        expect(h.similarity).toBeLessThanOrEqual(0.3 + 1e-6);
      }
    });

    it('finds a turn by the previous turn\'s words (its context field) at a lower weight than its own words', async () => {
      const index = await fx.open();
      const [asked, answered, other] = await fx.write([
        { seq: 1, content: 'Which pottery class did you take?' },
        { seq: 2, content: 'The one on Tuesdays, with Ana', context: 'Which pottery class did you take?' },
        { seq: 3, content: 'unrelated words entirely' },
      ]);
      const hits = await fx.search(index, { mode: 'text', k: 10, text: 'pottery class' });
      expect(keysOf(hits)).toEqual([asked, answered]);
      expect(keysOf(hits)).not.toContain(other);
      expect(hits[1].turn.content).toBe('The one on Tuesdays, with Ana');
    });

    it('returns the date a turn names, resolved at write time, with the turn', async () => {
      const index = await fx.open();
      const [dated, undated] = await fx.write([{ seq: 1, content: 'violin recital', eventAt: T0 - 86_400_000 }, { seq: 2, content: 'violin practice' }]);
      const hits = await fx.search(index, { mode: 'text', k: 10, text: 'violin' });
      expect(hits.find((h) => h.key === dated)!.turn.eventAt).toBe(T0 - 86_400_000);
      expect(hits.find((h) => h.key === undated)!.turn.eventAt).toBeUndefined();
    });

    it('returns the speaker label read at write time with the turn (a hash field the re-ranking reads, not a searched one)', async () => {
      const index = await fx.open();
      const [said, plain] = await fx.write([{ seq: 1, content: 'Melanie: violin recital', speaker: 'Melanie' }, { seq: 2, content: 'violin practice' }]);
      const hits = await fx.search(index, { mode: 'text', k: 10, text: 'violin' });
      expect(hits.find((h) => h.key === said)!.turn.speaker).toBe('Melanie');
      expect(hits.find((h) => h.key === plain)!.turn.speaker).toBeUndefined();
    });

    it('rejects a text or hybrid query without text, and a vector or hybrid query without a vector', async () => {
      const index = await fx.open();
      await expect(fx.search(index, { mode: 'text', k: 3 })).rejects.toThrow(InvalidInputError);
      await expect(fx.search(index, { mode: 'hybrid', k: 3, vector: axis(8, 0) })).rejects.toThrow(InvalidInputError);
      await expect(fx.search(index, { mode: 'hybrid', k: 3, text: 'x' })).rejects.toThrow(InvalidInputError);
      await expect(fx.search(index, { mode: 'bogus' as 'text', k: 3, text: 'x' })).rejects.toThrow(InvalidInputError);
    });

    it('searches hostile text as plain words: no error, no other tenant, no query syntax', async () => {
      const index = await fx.open();
      const [mine] = await fx.write([{ content: 'tenant session content embedding score' }]);
      await fx.write([{ tenant: 't2', seq: 1, content: 'tenant session content embedding score' }]);
      for (const text of ['@tenant:{t2} | @tenant:{*}', '*', '-tenant* %session% ~content', '=>[KNN 10 @embedding $vec AS score]', '"\\" \u0000 ({[', '$vec | $k']) {
        for (const mode of ['text', 'hybrid'] as const) {
          const hits = await fx.search(index, { mode, k: 10, text, vector: axis(8, 0) });
          expect(hits.every((h) => h.key === mine)).toBe(true);
        }
      }
      expect(keysOf(await fx.search(index, { mode: 'text', k: 10, text: '@tenant:{t2} | @tenant:{*}' }))).toEqual([mine]);
    });

    it('forgets a deleted session in the text ranking too, and gives the same text results after a rebuild', async () => {
      const first = await fx.open();
      const [gone, kept] = await fx.write([{ session: 'gone', seq: 1, content: 'violin' }, { session: 'kept', seq: 1, content: 'violin lessons' }]);
      expect(new Set(keysOf(await fx.search(first, { mode: 'text', k: 10, text: 'violin' })))).toEqual(new Set([gone, kept]));
      await fx.deleteSession('t1', 'gone');
      expect(keysOf(await fx.search(first, { mode: 'text', k: 10, text: 'violin' }))).toEqual([kept]);
      const second = await fx.open();
      expect(keysOf(await fx.search(second, { mode: 'text', k: 10, text: 'violin lessons' }))).toEqual([kept]);
      expect(keysOf(await fx.search(second, { mode: 'hybrid', k: 10, text: 'violin', vector: axis(8, 0) }))).toEqual([kept]);
    });
  });
});

/** What only a real RediSearch can show: the TIMEOUT sent with every query, and what a timed-out query does. */
(stackUrl ? describe : describe.skip)('RediSearch query timeouts (REDIS_STACK_URL)', () => {
  let redis: Redis;
  let fx: VectorFixture;
  let policy: string;

  beforeAll(async () => {
    redis = new Redis(stackUrl!);
    [[, policy]] = (await redis.call('FT.CONFIG', 'GET', 'ON_TIMEOUT')) as string[][];
  });
  afterAll(async () => {
    await redis.call('FT.CONFIG', 'SET', 'ON_TIMEOUT', policy);
    redis.disconnect();
  });
  afterEach(() => fx.close());

  it('warns at start when the server returns partial results on timeout (ON_TIMEOUT RETURN)', async () => {
    await redis.call('FT.CONFIG', 'SET', 'ON_TIMEOUT', 'RETURN');
    fx = new VectorFixture(redis, 'redisearch');
    await fx.open();
    expect(fx.warnings.join('\n')).toMatch(/ON_TIMEOUT is return/i);
  });

  it('fails a query that runs past REDISEARCH_TIMEOUT_MS with SearchReplyError, counted, instead of answering no hits', async () => {
    await redis.call('FT.CONFIG', 'SET', 'ON_TIMEOUT', 'FAIL');
    fx = new VectorFixture(redis, 'redisearch');
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
    for (let batch = 0; batch < 30; batch++) {
      await fx.write(Array.from({ length: 1000 }, (_, i) => ({
        seq: batch * 1000 + i + 1, content: words.filter((_, w) => (batch * 1000 + i) % (w + 2) !== 0).join(' '), embedding: seededVector(8, i),
      })));
    }
    const index = await fx.open({ REDISEARCH_TIMEOUT_MS: 1 });
    expect(fx.warnings.join('\n')).not.toMatch(/ON_TIMEOUT/);
    let failure: unknown;
    for (let attempt = 0; attempt < 20 && failure === undefined; attempt++) {
      failure = await fx.search(index, { mode: 'text', k: 100, text: words.join(' ') }).then(() => undefined, (err: unknown) => err);
    }
    expect(failure).toBeInstanceOf(SearchReplyError);
    expect((failure as SearchReplyError).reason).toBe('timeout');
    expect(fx.searchFailures).toContain('timeout');
    // With time to spare the same query answers.
    const patient = await fx.open({ REDISEARCH_TIMEOUT_MS: 30000 });
    expect(await fx.search(patient, { mode: 'text', k: 10, text: words.join(' ') })).toHaveLength(10);
  }, 120_000);
});


/**
 * An existing index: one from a build before extracted memories lacks the kind field and gets it at start-up; one
 * of another schema is refused, naming what differs.
 */
(stackUrl ? describe : describe.skip)('an existing RediSearch index (REDIS_STACK_URL)', () => {
  let redis: Redis;
  let fx: VectorFixture;

  beforeAll(() => {
    redis = new Redis(stackUrl!);
  });
  afterAll(() => redis.disconnect());
  afterEach(() => fx.close());

  /** FT.CREATE of the service's schema, changed by `change`, then the service's start over it. */
  const startOver = async (change: (args: (string | number)[]) => (string | number)[]) => {
    fx = new VectorFixture(redis, 'redisearch');
    const args = new RediSearchIndex({ config: testConfig({ KEY_PREFIX: fx.keys.prefix, EMBEDDING_DIM: 8 }), redis, store: fx.store }).createArgs();
    await redis.call('FT.CREATE', ...change(args));
    return fx.open().then(() => undefined, (err: unknown) => err);
  };
  const withoutStopWords = (args: (string | number)[]) => {
    const at = args.indexOf('STOPWORDS');
    return [...args.slice(0, at), ...args.slice(at + 2 + Number(args[at + 1]))];
  };

  it("refuses RediSearch's default stop words and NOSTEM on content", async () => {
    expect(await startOver(withoutStopWords)).toEqual(expect.objectContaining({ message: expect.stringContaining("RediSearch's default stop words") }));
    const nostem = await startOver((args) => args.flatMap((a, i) => (a === 'TEXT' && args[i - 1] === 'content' ? ['TEXT', 'NOSTEM'] : [a])));
    expect(nostem).toBeInstanceOf(IndexSchemaMismatchError);
    expect((nostem as Error).message).toContain('field content is NOSTEM');
  });

  it('refuses another distance metric, algorithm or vector type where FT.INFO reports them (2.10+), and another DIM everywhere', async () => {
    const dim = await startOver((args) => args.map((a, i) => (args[i - 1] === 'DIM' ? 16 : a)));
    expect((dim as Error).message).toMatch(/dim(ension)?\b.*16|DIM 16/i);
    const l2 = await startOver((args) => args.map((a) => (a === 'COSINE' ? 'L2' : a)));
    const info = (await redis.call('FT.INFO', fx.keys.searchIndex)) as unknown[];
    if (vectorParamsReported(toMap(info))) {
      expect((l2 as Error).message).toContain('field embedding has distance_metric L2, not COSINE');
      const float64 = await startOver((args) => args.map((a) => (a === 'FLOAT32' ? 'FLOAT64' : a)));
      expect((float64 as Error).message).toContain('data_type FLOAT64');
    } else {
      // 2.6 and 2.8 report only the field's type: the service starts, and says what it could not check.
      expect(l2).toBeUndefined();
      expect(fx.warnings.join('\n')).toMatch(/does not report the vector field's parameters/);
    }
  });

  it('watches hash_indexing_failures: reported at start and while running, with a warning when it rises', async () => {
    fx = new VectorFixture(redis, 'redisearch');
    const index = await fx.open({ REDISEARCH_WATCH_INTERVAL_MS: 100 });
    expect(fx.indexingFailures).toEqual([0]);
    expect(await indexingFailures(redis, fx.keys.searchIndex)).toBe(0);
    // A hash under the index's prefix whose vector is 16-d, not 8: RediSearch acknowledges the HSET and counts a failure.
    await redis.hset(fx.keys.turn('t1', 's1', 1), {
      [F.tenant]: 't1', [F.session]: 's1', [F.role]: 'user', [F.content]: 'never indexed', [F.timestamp]: T0, [F.embedding]: vectorToBuffer(seededVector(16, 1)),
    });
    await waitUntil('the rise is reported', async () => fx.indexingFailures.at(-1) === 1, 10_000, () => fx.warnings.join('\n'));
    expect(fx.warnings.join('\n')).toMatch(/hash_indexing_failures rose from 0 to 1/);
    expect(await indexingFailures(redis, fx.keys.searchIndex)).toBe(1);
    expect(await index.size()).toBe(0);
    await index.close();
    // Closed: no FT.INFO is read any more.
    const reported = fx.indexingFailures.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fx.indexingFailures).toHaveLength(reported);
  });

  it('adds kind with FT.ALTER, keeps the turns indexed before, and tells memories from them', async () => {
    fx = new VectorFixture(redis, 'redisearch');
    const [turn] = await fx.write([{ content: 'an old turn', embedding: axis(8, 0, 0.2) }]);
    const current = new RediSearchIndex({ config: testConfig({ KEY_PREFIX: fx.keys.prefix, EMBEDDING_DIM: 8 }), redis, store: fx.store }).createArgs();
    expect(current.slice(-2)).toEqual(['kind', 'TAG']);
    await redis.call('FT.CREATE', ...current.slice(0, -2));
    const index = await fx.open();
    const info = (await redis.call('FT.INFO', fx.keys.searchIndex)) as unknown[];
    expect(JSON.stringify(info)).toContain('"kind"');
    const scope = MemoryRepository.scopeOf('t1', 's1');
    const id = MemoryRepository.memoryId(scope, 's1', 1, 0);
    await new MemoryRepository(redis, fx.keys, fx.store).apply(scope, 's1', 0, 1, [
      { op: 'add', id, content: 'The user has an old turn.', type: 'fact', entities: [], sources: [{ session: 's1', turnId: 'x' }], embedding: axis(8, 0, 0.1) },
    ]);
    const q = { k: 10, vector: axis(8, 0) };
    expect(keysOf(await fx.search(index, { ...q, kinds: ['turn'] }))).toEqual([turn]);
    expect(keysOf(await fx.search(index, { ...q, kinds: ['memory'] }))).toEqual([fx.keys.memory(scope, id)]);
  });
});
