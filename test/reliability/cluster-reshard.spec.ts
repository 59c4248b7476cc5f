import calculateSlot from 'cluster-key-slot';
import { RedisCluster } from '../support/redis-cluster';
import { API_KEY, DIM, type ReliabilityStack, TENANT, useReliabilityStack } from './support/reliability-stack';
import type { QueueProbe } from './support/queue-probe';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';
import { waitUntil } from './support/wait-until';

/**
 * A slot moved in the middle of a flood: the two slots holding two of the flood's sessions are moved from their
 * master to another, each held in the migrating state until the source has answered ASK or TRYAGAIN (the writes of
 * the session meet it whatever the machine's load), and MOVED once it has moved. The client library retries those
 * (redis-endpoint.ts), so no error reaches a client and every acknowledged turn is stored exactly once, on the new
 * master.
 */
describe('a slot resharded mid-flood', () => {
  const cluster = new RedisCluster();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(cluster, {}, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  it('answers every request with 202 while the slots move, and loses nothing', async () => {
    const masters = (await cluster.topology()).filter((n) => n.role === 'master');
    const [source, target] = masters;
    const moving: string[] = [];
    for (let i = 0; moving.length < 2; i++) {
      const slot = calculateSlot(`{${TENANT}:rs-${i}}`);
      const onSource = (await cluster.masterOf(`{${TENANT}:rs-${i}}`)).id === source.id;
      if (onSource && !moving.some((s) => calculateSlot(`{${TENANT}:${s}}`) === slot)) moving.push(`rs-${i}`);
    }
    const sessions = [...moving, ...(await cluster.sessionsOn(TENANT, 'stay', masters.slice(1)))];

    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: API_KEY, sessions, loops: 8, batchesPerLoop: 60, batchSize: 20, deadlineMs: 150_000 });
    const total = 8 * 60 * 20;
    const running = flood.run();
    await waitUntil('a quarter of the flood is acknowledged', async () => flood.acknowledgedCount >= total / 4, 60_000, () => rs.logs.tail());
    const ackedAtStart = flood.acknowledgedCount;
    const started = Date.now();
    const redirected = async () => {
      const stats = await cluster.errorStats(source.port);
      return (stats.ASK ?? 0) + (stats.TRYAGAIN ?? 0);
    };
    for (const session of moving) {
      const before = await redirected();
      await cluster.migrateSlot(calculateSlot(`{${TENANT}:${session}}`), source.id, target.id, () =>
        waitUntil(`the source answers ASK or TRYAGAIN for ${session}`, async () => (await redirected()) > before, 30_000, () => cluster.tail()));
    }
    // The next write to a moved slot through a client's old slot map is answered MOVED.
    await waitUntil('the source answers MOVED', async () => ((await cluster.errorStats(source.port)).MOVED ?? 0) > 0, 10_000, () => cluster.tail());
    const reshard = { ackedAtStart, ackedAtEnd: flood.acknowledgedCount, ms: Date.now() - started, redirections: await cluster.errorStats(source.port) };

    const result = await running;
    await probe.drained('embed', 60_000, () => rs.logs.tail());

    // The slots moved while the flood was writing to them (the source answered MOVED once they had), and no client
    // saw an error.
    for (const s of moving) expect((await cluster.masterOf(`{${TENANT}:${s}}`)).id).toBe(target.id);
    expect(reshard.redirections.MOVED ?? 0).toBeGreaterThan(0);
    expect(reshard.ackedAtEnd).toBeLessThan(total);
    expect(reshard.ackedAtEnd).toBeGreaterThan(reshard.ackedAtStart);
    expect([Object.fromEntries(result.outcomes), [...result.retryReasons], rs.logs.grep(/ERROR/).slice(0, 3)]).toEqual([{ 202: total / 20 }, [], []]);
    expect(await probe.failed('embed')).toBe(0);

    const audit = await auditStore(cluster, DIM);
    expect(audit.problems).toEqual([]);
    for (const session of sessions) {
      const stored = audit.sessions.get(`${TENANT}/${session}`)!;
      expect(stored.turnIds.length).toBe(result.acknowledged.get(session)!.size);
      expect(new Set(stored.turnIds)).toEqual(result.acknowledged.get(session));
    }
    const search = await rs.call('GET', `/v1/sessions/${moving[0]}/memories?q=parcel%2042%20depot&k=3`);
    expect(((await search.json()) as { memories: unknown[] }).memories).toHaveLength(3);
    console.log(JSON.stringify({ test: 'cluster-reshard', total, reshard, slowestMs: result.slowestMs }));
  }, 180_000);
});
