import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { RedisServer } from '../support/redis-server';
import { keysHolding } from './support/keys-holding';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, type ReliabilityStack, TENANT, useReliabilityStack } from './support/reliability-stack';

const FORGET_TTL_SECONDS = 600;

/**
 * The promise behind every 202: a turn acknowledged is stored (once), whatever came before it (a DELETE, a
 * duplicate in flight, a retried chat); and a DELETE forgets, in Redis as a whole, not only in the turn hashes.
 */
describe('resent turns and forgotten sessions', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(redis, { FORGET_TTL_SECONDS: String(FORGET_TTL_SECONDS) }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  const json = async (res: Promise<Response>) => {
    const r = await res;
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const history = async (session: string) =>
    (await json(rs.call('GET', `/v1/sessions/${session}/turns?limit=100`))).body as { total: number; turns: { turnId: string; seq: number; content: string }[] };

  it('stores turns resent with the same client ids after their session was deleted, with or without wait', async () => {
    const batch = { turns: Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `imported ${i}`, id: `imp-${i}` })) };
    expect((await rs.call('POST', '/v1/sessions/reimport/turns?wait=true', batch)).status).toBe(200);
    expect((await rs.call('DELETE', '/v1/sessions/reimport')).status).toBe(200);

    const again = await json(rs.call('POST', '/v1/sessions/reimport/turns?wait=true', batch));
    expect(again.status).toBe(200);
    expect((again.body.turns as { seq: number }[]).map((t) => t.seq)).toEqual([6, 7, 8, 9, 10]);
    expect((await history('reimport')).turns.map((t) => [t.turnId, t.seq])).toEqual(batch.turns.map((t, i) => [t.id, 6 + i]));

    expect((await rs.call('DELETE', '/v1/sessions/reimport')).status).toBe(200);
    expect((await rs.call('POST', '/v1/sessions/reimport/turns', batch)).status).toBe(202);
    await probe.drained('embed', 10_000);
    expect((await history('reimport')).turns.map((t) => t.turnId)).toEqual(batch.turns.map((t) => t.id));
  });

  it('acknowledges concurrent duplicates of one turn with the seq it is stored under, and leaves no holes', async () => {
    const acks = await Promise.all(
      Array.from({ length: 20 }, () => json(rs.call('POST', '/v1/sessions/dupes/turns', { role: 'user', content: 'sent twenty times', id: 'dup-1' }))),
    );
    expect(new Set(acks.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(acks.map((a) => (a.body.turns as { seq: number }[])[0].seq))).toEqual(new Set([1]));
    const next = await json(rs.call('POST', '/v1/sessions/dupes/turns?wait=true', { role: 'user', content: 'the next turn', id: 'dup-2' }));
    expect((next.body.turns as { seq: number }[])[0].seq).toBe(2);
    await probe.drained('embed', 10_000);
    expect((await history('dupes')).turns.map((t) => [t.turnId, t.seq])).toEqual([['dup-1', 1], ['dup-2', 2]]);
  });

  it('leaves a deleted session nothing but its seq counter and extraction watermark, which expire', async () => {
    expect((await rs.call('POST', '/v1/sessions/gone/turns?wait=true', { role: 'user', content: 'short-lived' })).status).toBe(200);
    expect((await rs.call('DELETE', '/v1/sessions/gone')).status).toBe(200);
    const client = new Redis(redis.url);
    try {
      const keys = new KeySchema();
      // Its seq counter, and its extraction watermark (the session had no user: its own scope), both expiring.
      const left = [keys.seq(TENANT, 'gone'), keys.extracted({ tenant: TENANT, kind: 'session', id: 'gone' }, 'gone')];
      expect((await client.keys(`*{${TENANT}:gone}*`)).sort()).toEqual(left.sort());
      for (const key of left) {
        const ttl = await client.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(FORGET_TTL_SECONDS);
      }
    } finally {
      client.disconnect();
    }
  });

  it('stores a chat retried with the same Idempotency-Key once, and answers the retry with the stored reply', async () => {
    await rs.call('POST', '/v1/sessions/retried-chat/turns?wait=true', { role: 'user', content: 'my locker code is 3141' });
    const send = () =>
      fetch(`${rs.stack.apiUrl}/v1/sessions/retried-chat/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'chat:42' },
        body: JSON.stringify({ message: 'what is my locker code?' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { reply: string } }));
    const first = await send();
    const retry = await send();
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.body.reply).toBe(first.body.reply);
    const stored = await history('retried-chat');
    expect(stored.turns.map((t) => t.turnId)).toEqual([expect.any(String), 'chat:42', 'chat:42:reply']);

    // The same key with another message: refused, as payment APIs do, and nothing more is stored.
    const reused = await fetch(`${rs.stack.apiUrl}/v1/sessions/retried-chat/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'chat:42' },
      body: JSON.stringify({ message: 'forget my locker code' }),
    });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', code: 'idempotency_key_reused', message: expect.stringContaining('chat:42') });
    expect((await history('retried-chat')).turns.map((t) => [t.turnId, t.content])).toEqual(stored.turns.map((t) => [t.turnId, t.content]));
  });

  it('forgets a deleted session everywhere: no key in Redis holds its content or turn ids afterwards, jobs, events and search results included', async () => {
    const marker = 'ZEBRA-4417';
    // Issue 21 item 5: the embed queue's events stream kept every stored turn's id (the job's result named it).
    const idMarker = 'OKAPI-turn';
    const turns = (from: number) => ({ turns: [0, 1, 2].map((i) => ({ role: 'user', content: `${marker} secret number ${from + i}`, id: `${idMarker}-${from + i}` })) });
    expect((await rs.call('POST', '/v1/sessions/forget-all/turns?wait=true', turns(0))).status).toBe(200);
    const search = await json(rs.call('GET', `/v1/sessions/forget-all/memories?q=${marker}%20secret&k=100`));
    expect(JSON.stringify(search.body.memories)).toContain(marker); // a result that held the contents
    await probe.queues.embed.pause();
    try {
      expect((await rs.call('POST', '/v1/sessions/forget-all/turns', turns(3))).status).toBe(202); // still queued at the DELETE
      expect((await rs.call('DELETE', '/v1/sessions/forget-all')).status).toBe(200);
    } finally {
      await probe.queues.embed.resume();
    }
    await probe.drained('embed', 10_000);
    expect(await keysHolding(redis.url, marker)).toEqual([]);
    expect(await keysHolding(redis.url, idMarker)).toEqual([]);
    expect((await history('forget-all')).total).toBe(0);
  });
});
