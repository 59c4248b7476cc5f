import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { turnBrief } from '@app/memory/store/turn-hash';
import { bestHits } from '../../apps/retriever/src/retrieve/best-hits';
import { RedisServer } from '../support/redis-server';

/** The retriever's read of the whole turns after the re-rank, on a real redis-server. */
describe('bestHits: the whole turns of the k re-ranked hits kept', () => {
  const server = new RedisServer();
  let redis: Redis;
  let store: MemoryStore;

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    store = new MemoryStore(redis, new KeySchema('mem', 4));
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('reads the first k, passes over a turn deleted since the search and reads the next in its place, and keeps a turn already read', async () => {
    const written = await store.ingest([1, 2, 3, 4, 5].map((i) => ({
      tenant: 't', session: 's', turnId: `m${i}`, role: 'user' as const, content: `turn ${i}`, timestamp: 1000 + i, tokenCount: 2, embedding: new Float32Array([i, 1]),
    })));
    const turns = await store.getTurns(written.map((w) => w.key));
    // Ranked by the re-rank from their briefs: 2, 4, 1, 5, 3; turn 4 is then deleted before its turn is read.
    const ranked = [2, 4, 1, 5, 3].map((seq, i) => ({ key: turns[seq - 1]!.key, similarity: 0.9 - i / 10, brief: turnBrief(turns[seq - 1]!, false), score: 1 - i / 10 }));
    expect(await store.deleteTurn('t', 's', 'm4')).toMatchObject({ state: 'stored' });
    const best = await bestHits(store, ranked, 3);
    expect(best.map((m) => [m.seq, m.content, m.score])).toEqual([[2, 'turn 2', 1], [1, 'turn 1', 0.8], [5, 'turn 5', 0.7]]);
    // Fewer left than k: all of them.
    expect((await bestHits(store, ranked, 10)).map((m) => m.seq)).toEqual([2, 1, 5, 3]);
    // A hit whose turn was read already (for a reranker model) is not read again.
    const read = [{ ...ranked[0], turn: { ...turns[1]!, content: 'as read before' } }, ranked[2]];
    expect((await bestHits(store, read, 2)).map((m) => m.content)).toEqual(['as read before', 'turn 1']);
  });
});
