import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '@app/memory/config/load-config';
import { KeySchema } from '@app/memory/redis/key-schema';
import type { RedisClient } from '@app/memory/redis/redis-endpoint';
import { MemoryStore } from '@app/memory/store/memory-store';
import { assertLayout } from '@app/memory/store/store-layout';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { loadTurns } from '@app/memory/vector/load-turns';
import { RedisCluster } from '../support/redis-cluster';
import { RedisServer } from '../support/redis-server';
import { axis, T0 } from '../support/vector-fixture';

const run = promisify(execFile);

/**
 * Moving a single Redis into a cluster (docs/cluster.md): a layout-2 store, once its queue is drained, is copied
 * key by key with `redis-cli --cluster import`; the layout's hash tags put each key in its slot, so the store,
 * its change log and an index rebuilt from it work on the cluster as they did, and numbering goes on where it was.
 */
describe('a single-node store imported into a cluster', () => {
  const single = new RedisServer();
  const cluster = new RedisCluster({ replicas: 0 });
  const keys = new KeySchema();
  let source: RedisClient;
  let target: RedisClient;

  beforeAll(async () => {
    // one after the other: a port the single server takes between the cluster's pick and its bind breaks the join
    await single.start();
    await cluster.start();
    source = single.client();
    target = cluster.client();
  }, 150_000);

  afterAll(async () => {
    source?.disconnect();
    target?.disconnect();
    await Promise.all([single.stop(), cluster.stop()]);
  });

  it('keeps every turn, session listing and change-log position, and goes on numbering', async () => {
    await assertLayout(source, keys);
    const before = new MemoryStore(source, keys);
    const sessions = ['alpha', 'beta', 'gamma', 'delta'];
    await before.ingest(sessions.flatMap((session, s) => [0, 1, 2].map((i) => ({
      tenant: 't', session, turnId: `${session}-${i}`, role: 'user' as const, content: `${session} note ${i}`,
      timestamp: T0 + i, tokenCount: 3, embedding: axis(8, s, i * 0.1), user: 'u1',
    }))));
    await before.deleteSession('t', 'delta');
    const positions = await before.positions('t');

    await run('redis-cli', ['--cluster', 'import', cluster.seedNodes.split(',')[0], '--cluster-from', `127.0.0.1:${single.port}`, '--cluster-copy']);

    await assertLayout(target, keys); // the layout stamp came along: no process refuses the store
    const after = new MemoryStore(target, keys);
    expect(await after.sessionNames('t')).toEqual(['alpha', 'beta', 'gamma']);
    expect(await after.sessionNames('t', { user: 'u1' })).toEqual(['alpha', 'beta', 'gamma']);
    expect((await after.history('t', 'beta')).turns.map((t) => t.content)).toEqual(['beta note 0', 'beta note 1', 'beta note 2']);
    expect(await after.positions('t')).toEqual(positions);
    const next = await after.accept('t', 'beta', ['beta-3', 'beta-0']);
    expect(next).toMatchObject({ turns: [{ seq: 4, state: 'new' }, { seq: 1, state: 'stored' }] });

    const config = loadConfig({ ...cluster.env, VECTOR_BACKEND: 'hnsw', EMBEDDING_DIM: '8' });
    const index = await createVectorIndex({ config, redis: target, store: after, logger: { log: () => undefined, warn: () => undefined } });
    try {
      expect(await index.size()).toBe(9);
      const [hit] = await loadTurns(after, await index.search({ tenant: 't', k: 1, mode: 'vector', vector: axis(8, 2), minLogIds: positions }));
      expect(hit.turn.content).toBe('gamma note 0');
    } finally {
      await index.close();
    }
  });
});
