import Redis from 'ioredis';
import { alive } from '../support/processes';
import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, DIM, type ReliabilityStack, useReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';
import { waitUntil } from './support/wait-until';

/**
 * Durability across Redis restarts: a flood of batched writes from concurrent clients while Redis (AOF,
 * appendfsync always) is restarted twice, once cleanly (SIGTERM) and once by a crash (SIGKILL). Clients send
 * a batch again with the same ids after a 503, a 5xx or a dropped connection. Afterwards every turn
 * acknowledged with 202 is stored exactly once, and the API and workers have reconnected by themselves.
 */
describe('Redis restarted mid-flood', () => {
  const redis = new RedisServer(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(redis, { JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000' }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  /** SIGKILL through the server's own pid: no shutdown, no final fsync; only appendfsync always saves the data. */
  const crashRedis = async () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
    client.disconnect();
    process.kill(pid, 'SIGKILL');
    await waitUntil('the killed redis-server is gone', async () => !alive(pid), 5000);
  };

  it('stores every acknowledged turn exactly once after a clean restart and a crash', async () => {
    const sessions = ['flood-a', 'flood-b', 'flood-c'];
    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: API_KEY, sessions, loops: 6, batchesPerLoop: 40, batchSize: 25, deadlineMs: 90_000 });
    const total = 6 * 40 * 25;
    const running = flood.run();

    const restarts: { kind: string; ackedBefore: number; downMs: number }[] = [];
    const restart = async (kind: 'SIGTERM' | 'SIGKILL', atAcked: number) => {
      await waitUntil(`${atAcked} turns acknowledged`, async () => flood.acknowledgedCount >= atAcked, 60_000, () => rs.logs.tail());
      const ackedBefore = flood.acknowledgedCount;
      const down = Date.now();
      if (kind === 'SIGTERM') await redis.stop(true);
      else await crashRedis();
      await new Promise((r) => setTimeout(r, 500)); // stay down long enough for clients to notice
      await redis.start();
      restarts.push({ kind, ackedBefore, downMs: Date.now() - down });
    };
    await restart('SIGTERM', total * 0.25);
    await restart('SIGKILL', total * 0.55);

    const result = await running;
    await probe.drained('embed', 30_000, () => rs.logs.tail());

    // Both restarts happened while the flood was still writing, and clients did see them.
    for (const r of restarts) expect(r.ackedBefore).toBeLessThan(total);
    expect([...result.outcomes.keys()].some((o) => o !== 202)).toBe(true);
    expect(await probe.failed('embed')).toBe(0);

    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    for (const session of sessions) {
      const acknowledged = result.acknowledged.get(session)!;
      const stored = audit.sessions.get(`${TENANT}/${session}`)!;
      expect(stored.turnIds.length).toBe(acknowledged.size);
      expect(new Set(stored.turnIds)).toEqual(acknowledged);
      const history = (await (await rs.call('GET', `/v1/sessions/${session}/turns?limit=1`)).json()) as { total: number };
      expect(history.total).toBe(acknowledged.size);
    }

    // The whole path works again without restarting anything: wait=true needs the embedder and the reply channel.
    const after = await rs.call('POST', '/v1/sessions/after-restart/turns?wait=true', { role: 'user', content: 'written after both restarts' });
    expect(after.status).toBe(200);
    const search = await rs.call('GET', '/v1/sessions/after-restart/memories?q=written%20after%20restarts');
    expect(((await search.json()) as { memories: { content: string }[] }).memories.map((m) => m.content)).toEqual(['written after both restarts']);

    console.log(JSON.stringify({ test: 'redis-restart', total, restarts, outcomes: Object.fromEntries(result.outcomes), slowestMs: result.slowestMs, retryReasons: [...result.retryReasons].slice(0, 5) }));
  }, 150_000);
});
