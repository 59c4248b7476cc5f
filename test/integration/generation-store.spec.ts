import Redis from 'ioredis';
import { generationOf } from '@app/memory/generation/embedding-generation';
import { GenerationStore } from '@app/memory/generation/generation-store';
import { GenerationWatch } from '@app/memory/generation/generation-watch';
import { loadConfig } from '@app/memory/config/load-config';
import { ConfigError } from '@app/memory/errors/config.error';
import { ReindexConflictError } from '@app/memory/errors/reindex-conflict.error';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { RedisServer } from '../support/redis-server';

/** The generation record's scripts on a real redis-server: begin, progress (compare-and-set on the cursor), switch, abort, finish. */
describe('GenerationStore (real redis-server)', () => {
  const server = new RedisServer();
  let redis: Redis;
  let generations: GenerationStore;
  const keys = new KeySchema('gen', 4);
  const first = generationOf({ provider: 'local', model: 'local', dim: 384 }, true);
  const target = generationOf({ provider: 'local', model: 'local', dim: 1024 });
  const SETTLE = 50;

  beforeAll(async () => {
    await server.start();
    redis = server.client();
    generations = new GenerationStore(redis, keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('adopts the first process\'s generation once; a later one with another embedder does not replace it', async () => {
    expect((await generations.adopt(first)).active).toEqual(first);
    expect((await generations.adopt(target)).active).toEqual(first);
    await expect(generations.begin(first, 0)).rejects.toThrow(`the store is on local/local/384 (${first.id}) already`);
  });

  it('records a batch only from the cursor it started at, and switches after a clean pass begun past the settle time', async () => {
    await generations.adopt(first);
    await generations.begin(target, 10);
    await expect(generations.begin(generationOf({ provider: 'local', model: 'local', dim: 512 }), 10)).rejects.toThrow(ReindexConflictError);
    expect(await generations.progress(target, '', '0:17', 5, 5, false, SETTLE)).toBe(1);
    // A replay of the same batch (a job run twice) changes nothing.
    expect(await generations.progress(target, '', '0:17', 5, 5, false, SETTLE)).toBe(0);
    expect(await generations.progress(target, '0:17', '', 5, 5, true, SETTLE)).toBe(2);
    expect(await generations.read()).toMatchObject({ state: 'building', pass: 2, cursor: '', done: 10, total: 10 });
    // A clean pass that began before the settle time was over (a minute here): one more. One that began past it (no
    // settle time here) switches. Given, not waited for: a busy machine cannot move either side of the line.
    expect(await generations.progress(target, '', '', 0, 0, true, 60_000)).toBe(2);
    expect(await generations.progress(target, '', '', 0, 0, true, 0)).toBe(3);
    expect(await generations.read()).toMatchObject({ state: 'switched', active: target, previous: first, done: 10 });
    expect(await generations.end('finish')).toEqual(first);
    const done = await generations.read();
    expect(done).toMatchObject({ active: target, drop: first, done: 10 });
    expect(done?.state).toBeUndefined();
    // A new re-index waits for the drop to be done.
    await expect(generations.begin(generationOf({ provider: 'local', model: 'local', dim: 512 }), 0)).rejects.toThrow(/still being deleted/);
    await generations.dropped(first);
    expect((await generations.read())?.drop).toBeUndefined();
  });

  it('aborts before the switch (the target dropped) and after it (the previous generation active again)', async () => {
    await generations.adopt(first);
    await generations.begin(target, 0);
    expect(await generations.end('abort')).toEqual(target);
    expect(await generations.read()).toMatchObject({ active: first, drop: target });
    // A batch of the aborted run arriving late records nothing.
    expect(await generations.progress(target, '', '', 3, 3, true, 0)).toBe(0);
    expect(await generations.end('abort')).toBeUndefined();

    await generations.dropped(target);
    await generations.begin(target, 0);
    expect(await generations.progress(target, '', '', 0, 0, true, 0)).toBe(3);
    expect(await generations.end('abort')).toEqual(target);
    expect(await generations.read()).toMatchObject({ active: first, drop: target });
  });

  it('hands out the driver lease to one owner at a time', async () => {
    expect(await generations.lease('a', 200)).toBe(true);
    expect(await generations.lease('b', 200)).toBe(false);
    expect(await generations.lease('a', 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(await generations.lease('b', 200)).toBe(true);
  });

  it('re-embeds only hashes that still exist, logs them for the in-process indexes, and scans for the missing ones', async () => {
    const store = new MemoryStore(redis, keys);
    const written = await store.ingest([0, 1, 2].map((i) => ({ tenant: 't', session: 's', turnId: `t${i}`, role: 'user' as const, content: `c${i}`, timestamp: 1, tokenCount: 1, embedding: new Float32Array([i, 1]) })));
    await redis.del(written[2].key);
    const missing = await store.scanMissing('', 100, target.field);
    expect(missing.next).toBe('');
    expect(missing.missing.map((m) => m.content).sort()).toEqual(['c0', 'c1']);
    const before = await redis.xlen(keys.changelog(keys.partition('t', 's')));
    expect(await store.setVectors(target.field, [written[0], written[2]].map((w) => ({ key: w.key, vector: new Float32Array(4) })))).toBe(1);
    expect(await redis.exists(written[2].key)).toBe(0);
    expect(await redis.xlen(keys.changelog(keys.partition('t', 's')))).toBe(before + 1);
    expect((await store.scanMissing('', 100, target.field)).missing.map((m) => m.content)).toEqual(['c1']);
    await store.dropField(target.field);
    expect(await redis.hexists(written[0].key, target.field)).toBe(0);
  });

  it("adopts a store written before generations only with the stored vectors' dimension; a process configured otherwise follows the active generation and says so", async () => {
    const store = new MemoryStore(redis, keys);
    await store.ingest([{ tenant: 't', session: 's', turnId: 'old', role: 'user', content: 'written before generations', timestamp: 1, tokenCount: 1, embedding: new Float32Array(384) }]);
    const quiet = { log: () => undefined, warn: () => undefined };
    const watch = (over: Record<string, string>) => new GenerationWatch(generations, store, loadConfig({ EMBEDDING_PROVIDER: 'local', ...over }), quiet);
    await expect(watch({ EMBEDDING_DIM: '1024' }).start()).rejects.toThrow(ConfigError);
    expect(await generations.read()).toBeUndefined();

    const adopting = watch({ EMBEDDING_DIM: '384' });
    await adopting.start();
    expect(adopting.active).toEqual(first);
    expect(adopting.check()).toBe(`ok (local/local/384 (${first.id}))`);
    adopting.onModuleDestroy();

    const other = watch({ EMBEDDING_DIM: '1024' });
    await other.start();
    expect(other.active).toEqual(first);
    expect(other.check()).toMatch(/^the configured embedder \(EMBEDDING_\*: local\/local\/1024 \(\w+\)\) is not the store's active generation local\/local\/384/);
    expect(other.embedder(other.active).dim).toBe(384);
    other.onModuleDestroy();
  });
});
