import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { TurnWrite } from '@app/memory/store/turn';
import { RedisServer } from '../support/redis-server';

describe('MemoryStore (real redis-server)', () => {
  const server = new RedisServer();
  let redis: Redis;
  let store: MemoryStore;
  const keys = new KeySchema('mem');

  const turn = (session: string, seq: number, content: string, over: Partial<TurnWrite> = {}): TurnWrite => ({
    tenant: 't1',
    session,
    seq,
    turnId: `turn-${session}-${seq}`,
    role: 'user',
    content,
    timestamp: 1_700_000_000_000 + seq,
    tokenCount: 3,
    embedding: new Float32Array([seq, 0.5, -1]),
    ...over,
  });

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    store = new MemoryStore(redis, keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('writes a turn under the hierarchical key with all fields', async () => {
    const [res] = await store.write([turn('s1', 1, 'héllo wörld ✓', { metadata: { source: 'test' } })]);
    expect(res).toMatchObject({ seq: 1, key: 'mem:t1:s1:turn:1', created: true });
    expect(res.logId).toMatch(/^\d+-\d+$/);
    const stored = await store.getTurn('t1', 's1', 1);
    expect(stored).toEqual({
      key: 'mem:t1:s1:turn:1', tenant: 't1', session: 's1', seq: 1, turnId: 'turn-s1-1', role: 'user',
      content: 'héllo wörld ✓', timestamp: 1_700_000_000_001, tokenCount: 3, metadata: { source: 'test' },
    });
    const [vec] = await store.loadVectors([res.key]);
    expect(Array.from(vec.embedding)).toEqual([1, 0.5, -1]);
  });

  it('is idempotent by turn id: a second write with the same id, even under another seq, is a no-op', async () => {
    await store.write([turn('s1', 1, 'first')]);
    const [again] = await store.write([turn('s1', 7, 'changed', { turnId: 'turn-s1-1' })]);
    expect(again).toMatchObject({ created: false, seq: 1, key: 'mem:t1:s1:turn:1', logId: '' });
    expect(await store.countSession('t1', 's1')).toBe(1);
    expect((await store.getTurn('t1', 's1', 1))?.content).toBe('first');
    expect(await redis.exists('mem:t1:s1:turn:7')).toBe(0);
    expect(await redis.xlen(keys.changelog)).toBe(1);
  });

  it('reserves consecutive sequence numbers per session', async () => {
    expect(await store.reserveSeq('t1', 's1', 3)).toBe(1);
    expect(await store.reserveSeq('t1', 's1')).toBe(4);
    expect(await store.reserveSeq('t1', 's2')).toBe(1);
  });

  it('lists history in order, paged, and the most recent turns', async () => {
    await store.write([3, 1, 2, 5, 4].map((seq) => turn('s1', seq, `c${seq}`)));
    const page = await store.history('t1', 's1', 1, 2);
    expect(page.total).toBe(5);
    expect(page.turns.map((t) => t.seq)).toEqual([2, 3]);
    expect((await store.recent('t1', 's1', 2)).map((t) => t.content)).toEqual(['c4', 'c5']);
    expect(await store.listSessions('t1')).toEqual(['s1']);
  });

  it('deletes a session with all of its keys and logs the delete', async () => {
    await store.write([turn('s1', 1, 'a'), turn('s1', 2, 'b'), turn('s2', 1, 'other')]);
    await store.reserveSeq('t1', 's1', 2);
    const res = await store.deleteSession('t1', 's1');
    expect(res?.deleted).toBe(2);
    expect((await redis.keys('*:t1:s1:*')).sort()).toEqual(['mem-sys:t1:s1:forgotten', 'mem-sys:t1:s1:seq']);
    expect(await store.countSession('t1', 's1')).toBe(0);
    expect(await store.listSessions('t1')).toEqual(['s2']);
    const last = await redis.xrevrange(keys.changelog, '+', '-', 'COUNT', 1);
    expect(last[0][1]).toEqual(['op', 'del', 'tenant', 't1', 'session', 's1']);
  });

  it('drops turns accepted before their session was forgotten, and never reuses their seqs', async () => {
    const first = await store.reserveSeq('t1', 's1', 3);
    await store.write([turn('s1', first, 'stored before the delete')]);
    expect(await store.deleteSession('t1', 's1')).toMatchObject({ deleted: 1 });
    const [late] = await store.write([turn('s1', first + 1, 'queued before the delete, written after')]);
    expect(late).toMatchObject({ created: false, logId: '' });
    const next = await store.reserveSeq('t1', 's1');
    expect(next).toBe(4);
    const [fresh] = await store.write([turn('s1', next, 'accepted after the delete')]);
    expect(fresh.created).toBe(true);
    expect((await store.history('t1', 's1')).turns.map((t) => t.content)).toEqual(['accepted after the delete']);
    expect(await store.deleteSession('t1', 'never-used')).toBeNull();
  });

  it('scans every stored vector for index rebuilds', async () => {
    await store.write(Array.from({ length: 1200 }, (_, i) => turn(`s${i % 7}`, i + 1, `c${i}`)));
    let n = 0;
    for await (const batch of store.scanVectors(200)) n += batch.length;
    expect(n).toBe(1200);
  });

  it('rejects ids that could break out of the key schema', () => {
    for (const bad of ['a:b', 'a*', '{x}', 'a b', '', 'ä', 'a\u0000', 'x'.repeat(65)]) {
      expect(() => keys.turn('t1', bad, 1)).toThrow(/session id must match/);
    }
  });
});
