import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { TurnWrite } from '@app/memory/store/turn';
import { RedisServer } from '../support/redis-server';

describe('MemoryStore (real redis-server)', () => {
  const server = new RedisServer();
  let redis: Redis;
  let store: MemoryStore;
  const keys = new KeySchema('mem', 4);

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
  /** Accepts then writes, as the API and the embedder do; the seqs come from accept. */
  const ingest = (turns: TurnWrite[]) => store.ingest(turns);
  const log = async (session: string) => redis.xrange(keys.changelog(keys.partition('t1', session)), '-', '+');

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    store = new MemoryStore(redis, keys, { forgetTtlSeconds: 120 });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('writes a turn under the hash-tagged hierarchical key with all fields, and logs it', async () => {
    const [res] = await ingest([turn('s1', 1, 'héllo wörld ✓', { metadata: { source: 'test' }, user: 'ada', tags: ['billing', 'vip'] })]);
    expect(res).toEqual({ turnId: 'turn-s1-1', seq: 1, key: 'mem:{t1:s1}:turn:1', outcome: 'stored' });
    expect(await store.getTurn('t1', 's1', 1)).toEqual({
      key: 'mem:{t1:s1}:turn:1', tenant: 't1', session: 's1', seq: 1, turnId: 'turn-s1-1', role: 'user', user: 'ada',
      content: 'héllo wörld ✓', timestamp: 1_700_000_000_001, tokenCount: 3, tags: ['billing', 'vip'], metadata: { source: 'test' },
    });
    const [vec] = await store.loadVectors([res.key]);
    expect(vec).toMatchObject({ user: 'ada', tags: ['billing', 'vip'] });
    expect(Array.from(vec.embedding)).toEqual([1, 0.5, -1]);
    expect((await log('s1')).map(([, f]) => f)).toEqual([['op', 'add', 'key', 'mem:{t1:s1}:turn:1']]);
    const positions = await store.positions('t1');
    expect(Object.keys(positions)).toEqual([String(keys.partition('t1', 's1'))]);
    expect(await store.positions('t2')).toEqual({});
  });

  it('numbers a resent turn id as before: stored ids and still-queued ids keep their seq, new ones take the next', async () => {
    const first = await store.accept('t1', 's1', ['a', 'b']);
    expect(first).toEqual({ status: 'accepted', turns: [{ seq: 1, state: 'new' }, { seq: 2, state: 'new' }] });
    await store.write([turn('s1', 1, 'a', { turnId: 'a' })]);
    const again = await store.accept('t1', 's1', ['a', 'b', 'c', 'c']);
    expect(again).toEqual({
      status: 'accepted',
      turns: [{ seq: 1, state: 'stored' }, { seq: 2, state: 'pending' }, { seq: 3, state: 'new' }, { seq: 3, state: 'pending' }],
    });
    expect(await store.queued('t1')).toBe(2); // a, b, c accepted as new; a processed
  });

  it('reserves room in the queued count with the accept, all or none, never past the bound', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.accept('t1', `r${i}`, ['x', 'y'], { maxQueued: 9 })));
    expect(results.filter((r) => r.status === 'accepted')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'full')).toHaveLength(6);
    expect(await store.queued('t1')).toBe(8);
    // A resend reserves, and gives back what was not new.
    expect(await store.accept('t1', 'r0', ['x'], { maxQueued: 9 })).toMatchObject({ status: 'accepted', turns: [{ state: 'pending' }] });
    expect(await store.queued('t1')).toBe(8);
  });

  it('accepts a turn answering another only while that one is still there', async () => {
    await store.accept('t1', 's1', ['question']);
    expect(await store.accept('t1', 's1', ['answer'], { answering: 'question' })).toMatchObject({ status: 'accepted' });
    await store.deleteSession('t1', 's1');
    expect(await store.accept('t1', 's1', ['answer-2'], { answering: 'question' })).toEqual({ status: 'gone' });
    expect(await store.sessionNames('t1')).toEqual([]);
  });

  it('takes back turns accepted as new, and their queued count', async () => {
    const accepted = await store.accept('t1', 's1', ['a', 'b']);
    expect(accepted.status === 'accepted' && accepted.turns.map((t) => t.seq)).toEqual([1, 2]);
    await store.unaccept('t1', 's1', [{ turnId: 'a', seq: 1 }, { turnId: 'b', seq: 2 }]);
    expect([await store.queued('t1'), await store.pendingSeqs('t1', 's1')]).toEqual([0, []]);
    expect(await store.accept('t1', 's1', ['a'])).toMatchObject({ turns: [{ seq: 3, state: 'new' }] });
  });

  it('counts the requests that found a turn pending (a failed one takes back only what no other holds), until the turn is stored or forgotten', async () => {
    await store.accept('t1', 's1', ['a', 'b', 'c']);
    await store.accept('t1', 's1', ['a', 'b', 'c']);
    expect(await redis.hgetall(keys.resent('t1', 's1'))).toEqual({ a: '1', b: '1', c: '1' });
    await store.unaccept('t1', 's1', [{ turnId: 'c', seq: 3 }]);
    expect([await redis.hgetall(keys.resent('t1', 's1')), await store.pendingSeqs('t1', 's1')]).toEqual([{ a: '1', b: '1' }, [1, 2, 3]]);
    await store.write([turn('s1', 1, 'a', { turnId: 'a' })]);
    await store.deleteTurn('t1', 's1', 'b');
    expect(await redis.hgetall(keys.resent('t1', 's1'))).toEqual({});
    await store.accept('t1', 's1', ['c']);
    await store.deleteSession('t1', 's1');
    expect(await redis.exists(keys.resent('t1', 's1'))).toBe(0);
  });

  it('is idempotent by turn id: a replayed write is a no-op that logs again', async () => {
    await ingest([turn('s1', 1, 'first')]);
    const [again] = await store.write([turn('s1', 1, 'changed')]);
    expect(again).toMatchObject({ outcome: 'existing', seq: 1 });
    expect((await store.getTurn('t1', 's1', 1))?.content).toBe('first');
    expect(await log('s1')).toHaveLength(2);
  });

  it('gives a session to the first user named, and refuses another user', async () => {
    expect(await store.accept('t1', 's1', ['a'], { user: 'ada' })).toMatchObject({ status: 'accepted', user: 'ada' });
    expect(await store.accept('t1', 's1', ['b'])).toMatchObject({ status: 'accepted', user: 'ada' });
    expect(await store.accept('t1', 's1', ['c'], { user: 'bob' })).toEqual({ status: 'conflict', owner: 'ada' });
    expect(await store.sessionNames('t1', { user: 'ada' })).toEqual(['s1']);
    expect(await store.sessionNames('t1', { user: 'bob' })).toEqual([]);
  });

  it('lists history in order, paged, the most recent turns, and session summaries', async () => {
    await ingest([1, 2, 3, 4, 5].map((seq) => turn('s1', seq, `c${seq}`)));
    await ingest([turn('s2', 1, 'other', { timestamp: 5 })]);
    const page = await store.history('t1', 's1', 1, 2);
    expect(page.total).toBe(5);
    expect(page.turns.map((t) => t.seq)).toEqual([2, 3]);
    expect((await store.recent('t1', 's1', 2)).map((t) => t.content)).toEqual(['c4', 'c5']);
    expect(await store.sessionNames('t1')).toEqual(['s1', 's2']);
    expect(await store.sessionNames('t1', { after: 's1', limit: 10 })).toEqual(['s2']);
    const [s1, s2] = await store.summaries('t1', ['s1', 's2', 'gone']);
    expect(s1).toMatchObject({ sessionId: 's1', turns: 5, firstActivity: 1_700_000_000_001, lastActivity: 1_700_000_000_005 });
    expect(s2).toMatchObject({ sessionId: 's2', turns: 1, firstActivity: 5, lastActivity: 5 });
  });

  it("spans a scope's activity: earliest and latest stored turn over its sessions, of the named users only", async () => {
    await ingest([turn('a1', 1, 'x', { user: 'ada', timestamp: 100 }), turn('a1', 2, 'y', { user: 'ada', timestamp: 900 })]);
    await ingest([turn('a2', 1, 'x', { user: 'ada', timestamp: 50 })]);
    await ingest([turn('b1', 1, 'x', { user: 'bob', timestamp: 5000 })]);
    await ingest([turn('n1', 1, 'x', { timestamp: 10 })]);
    expect(await store.activity('t1', ['a1'])).toEqual({ first: 100, last: 900 });
    expect(await store.activity('t1', ['a1', 'a2', 'b1', 'n1'])).toEqual({ first: 10, last: 5000 });
    expect(await store.activity('t1', ['a1', 'a2', 'b1', 'n1'], ['ada'])).toEqual({ first: 50, last: 900 });
    expect(await store.activity('t1', ['missing'])).toEqual({ first: undefined, last: undefined });
    expect(await store.activity('t2', ['a1'])).toEqual({ first: undefined, last: undefined });
  });

  it('deletes a session with all of its keys but a counter that expires, and logs the delete', async () => {
    await ingest([turn('s1', 1, 'a'), turn('s1', 2, 'b'), turn('s2', 1, 'other')]);
    await store.accept('t1', 's1', ['queued-1', 'queued-2']);
    const res = await store.deleteSession('t1', 's1');
    expect(res).toEqual({ deleted: 2, lastSeq: 4, pending: [{ turnId: 'queued-1', seq: 3 }, { turnId: 'queued-2', seq: 4 }] });
    expect(await redis.keys('*{t1:s1}*')).toEqual([keys.seq('t1', 's1')]);
    expect(await redis.ttl(keys.seq('t1', 's1'))).toBeGreaterThan(100);
    expect(await store.sessionNames('t1')).toEqual(['s2']);
    expect((await log('s1')).at(-1)![1]).toEqual(['op', 'del', 'tenant', 't1', 'session', 's1']);
    expect(await store.deleteSession('t1', 'never-used')).toBeNull();
  });

  it('drops turns accepted before their session was forgotten, and never reuses their seqs', async () => {
    await store.accept('t1', 's1', ['before-1', 'before-2']);
    await store.write([turn('s1', 1, 'stored before the delete', { turnId: 'before-1' })]);
    await store.deleteSession('t1', 's1');
    const [late] = await store.write([turn('s1', 2, 'queued before the delete, written after', { turnId: 'before-2' })]);
    expect(late.outcome).toBe('dropped');
    // The same id resent after the delete is a new turn with a new number; its old job cannot write it.
    const resent = await store.accept('t1', 's1', ['before-2']);
    expect(resent).toMatchObject({ turns: [{ seq: 3, state: 'new' }] });
    expect(await redis.ttl(keys.seq('t1', 's1'))).toBe(-1);
    expect((await store.write([turn('s1', 2, 'old job, replayed', { turnId: 'before-2' })]))[0].outcome).toBe('dropped');
    expect((await store.write([turn('s1', 3, 'accepted after the delete', { turnId: 'before-2' })]))[0].outcome).toBe('stored');
    expect((await store.history('t1', 's1')).turns.map((t) => t.content)).toEqual(['accepted after the delete']);
    expect(await store.sessionNames('t1')).toEqual(['s1']);
  });

  it('keeps a session listed when an older delete unregisters it after a newer accept registered it', async () => {
    await store.accept('t1', 's1', ['x']);
    const deleted = await store.deleteSession('t1', 's1');
    await store.accept('t1', 's1', ['y']); // registers seq 2, above the delete's mark of 1
    await redis.eval(`redis.call('HSET', KEYS[1], ARGV[1], 0)`, 1, keys.gens('t1'), 's1'); // an older registration's value
    await store.accept('t1', 's1', ['z']);
    expect(deleted).toMatchObject({ pending: [{ turnId: 'x', seq: 1 }] });
    expect(await store.sessionNames('t1')).toEqual(['s1']);
  });

  it('forgets one turn: stored ones leave the store and the index, queued ones are dropped when written', async () => {
    await ingest([turn('s1', 1, 'keep'), turn('s1', 2, 'forget me')]);
    await store.accept('t1', 's1', ['queued']);
    expect(await store.deleteTurn('t1', 's1', 'turn-s1-2')).toEqual({ state: 'stored', seq: 2 });
    expect(await store.deleteTurn('t1', 's1', 'queued')).toEqual({ state: 'pending', seq: 3 });
    expect(await store.deleteTurn('t1', 's1', 'unknown')).toEqual({ state: 'unknown' });
    expect((await store.write([turn('s1', 3, 'late', { turnId: 'queued' })]))[0].outcome).toBe('dropped');
    expect((await store.history('t1', 's1')).turns.map((t) => t.content)).toEqual(['keep']);
    expect((await log('s1')).at(-1)![1]).toEqual(['op', 'rm', 'key', 'mem:{t1:s1}:turn:2']);
  });

  it('counts queued turns per tenant and never below zero', async () => {
    await store.accept('t1', 's1', ['a', 'b', 'c']);
    await store.accept('t2', 's1', ['a']);
    expect([await store.queued('t1'), await store.queued('t2')]).toEqual([3, 1]);
    await store.release('t1', 5);
    expect(await store.queued('t1')).toBe(0);
  });

  it('scans every stored vector for index rebuilds', async () => {
    await ingest(Array.from({ length: 1200 }, (_, i) => turn(`s${i % 7}`, i + 1, `c${i}`)));
    let n = 0;
    for await (const batch of store.scanVectors(200)) n += batch.length;
    expect(n).toBe(1200);
  });

  it('puts every key of a session in one cluster slot, and spreads sessions over the partitions', () => {
    const tagged = [keys.turn('t', 's', 1), keys.seq('t', 's'), keys.history('t', 's'), keys.turnIds('t', 's'), keys.pending('t', 's'), keys.meta('t', 's')];
    expect(new Set(tagged.map((k) => /\{[^}]*\}/.exec(k)![0]))).toEqual(new Set(['{t:s}']));
    expect(new Set([keys.sessions('t'), keys.gens('t'), keys.queued('t'), keys.userSessions('t', 'u')].map((k) => /\{[^}]*\}/.exec(k)![0]))).toEqual(new Set(['{t}']));
    const used = new Set(Array.from({ length: 200 }, (_, i) => keys.partition('t', `s${i}`)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects ids that could break out of the key schema', () => {
    for (const bad of ['a:b', 'a*', '{x}', 'a b', '', 'ä', 'a\u0000', 'x'.repeat(65)]) {
      expect(() => keys.turn('t1', bad, 1)).toThrow(/session id must match/);
    }
  });
});
