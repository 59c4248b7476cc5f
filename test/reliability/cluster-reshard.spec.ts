import calculateSlot from 'cluster-key-slot';
import { RedisCluster } from '../support/redis-cluster';
import { API_KEY, DIM, type ReliabilityStack, TENANT, useReliabilityStack } from './support/reliability-stack';
import type { QueueProbe } from './support/queue-probe';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';
import { waitUntil } from './support/wait-until';

/** redis-cli reshard moves the lowest slots of the source first: this many of them. */
const SLOTS = 64;

/**
 * `redis-cli --cluster reshard` of slots in the middle of a flood: two of the flood's sessions live in the slots
 * being moved, so their scripts meet ASK and TRYAGAIN while the keys migrate and MOVED once a slot has moved. The
 * client library retries those (redis-endpoint.ts), so no error reaches a client and every acknowledged turn is
 * stored exactly once, on the new master.
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
    const masters = (await cluster.topology()).filter((n) => n.role === 'master').sort((a, b) => a.slots[0][0] - b.slots[0][0]);
    const [source, target] = masters;
    const [first] = source.slots;
    const inMovedSlots = (s: string) => {
      const slot = calculateSlot(`{${TENANT}:${s}}`);
      return slot >= first[0] && slot < first[0] + SLOTS;
    };
    const moving: string[] = [];
    for (let i = 0; moving.length < 2; i++) if (inMovedSlots(`rs-${i}`)) moving.push(`rs-${i}`);
    const sessions = [...moving, ...(await cluster.sessionsOn(TENANT, 'stay', masters.slice(1)))];

    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: API_KEY, sessions, loops: 8, batchesPerLoop: 60, batchSize: 20, deadlineMs: 150_000 });
    const total = 8 * 60 * 20;
    const running = flood.run();
    await waitUntil('a quarter of the flood is acknowledged', async () => flood.acknowledgedCount >= total / 4, 60_000, () => rs.logs.tail());
    const ackedAtStart = flood.acknowledgedCount;
    const started = Date.now();
    await cluster.reshard(source.id, target.id, SLOTS);
    const reshard = { ackedAtStart, ackedAtEnd: flood.acknowledgedCount, ms: Date.now() - started, redirections: await cluster.errorStats(source.port) };

    const result = await running;
    await probe.drained('embed', 60_000, () => rs.logs.tail());

    // The slots moved while the flood was writing to them (the source answered ASK or TRYAGAIN while they migrated,
    // and MOVED once they had), and no client saw an error.
    for (const s of moving) expect((await cluster.masterOf(`{${TENANT}:${s}}`)).id).toBe(target.id);
    expect((reshard.redirections.ASK ?? 0) + (reshard.redirections.TRYAGAIN ?? 0)).toBeGreaterThan(0);
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
    console.log(JSON.stringify({ test: 'cluster-reshard', total, slots: SLOTS, reshard, slowestMs: result.slowestMs }));
  }, 180_000);
});
