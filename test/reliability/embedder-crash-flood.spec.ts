import { QueueEvents } from 'bullmq';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, DIM, type ReliabilityStack, startReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';
import { waitUntil } from './support/wait-until';

/**
 * kill -9 of one of two embedders in the middle of a flood: the other replica takes over its stalled jobs
 * (lock 1 s, stalled check every 1 s), and every acknowledged turn is stored exactly once.
 */
const CONCURRENCY = 4;

describe('embedder killed mid-flood', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;
  let events: QueueEvents;
  const stalled: string[] = [];

  beforeAll(async () => {
    await redis.start();
    // Few jobs at a time per embedder and a backlog behind them: both replicas stay busy, so the kill certainly
    // interrupts some of the victim's jobs (more than CONCURRENCY active in all means the victim holds some).
    rs = await startReliabilityStack(
      redis.url,
      { JOB_LOCK_MS: '1000', JOB_STALLED_INTERVAL_MS: '1000', EMBED_BATCH_WAIT_MS: '50', EMBED_CONCURRENCY: String(CONCURRENCY) },
      { embedders: 2 },
    );
    probe = new QueueProbe(redis.url);
    events = new QueueEvents('embed', { connection: { url: redis.url }, prefix: 'mem-bull' });
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    await probe?.close();
    await rs?.stack.stop();
    await redis.stop();
  });

  it('recovers the killed replica’s jobs on the other one; nothing lost, nothing twice', async () => {
    const [victim, survivor] = Object.entries(rs.stack.workerMetrics).filter(([name]) => name.startsWith('embedder')).map(([, url]) => url);
    const { pid } = (await (await fetch(victim.replace('/metrics', '/healthz'))).json()) as { pid: number };

    const sessions = ['crash-a', 'crash-b'];
    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: API_KEY, sessions, loops: 4, batchesPerLoop: 50, batchSize: 20, deadlineMs: 60_000 });
    const total = 4 * 50 * 20;
    const running = flood.run();

    await waitUntil('the victim is working', async () => metricValue(await scrape(victim), 'agent_memory_jobs_total', { queue: 'embed', outcome: 'completed' }) > 0, 30_000);
    await waitUntil('a third of the flood is acknowledged', async () => flood.acknowledgedCount >= total / 3, 30_000);
    await waitUntil(
      'both embedders hold jobs, with a backlog behind them',
      async () => (await probe.queues.embed.getActiveCount()) > CONCURRENCY && (await probe.queues.embed.getWaitingCount()) >= 50,
      30_000,
    );
    const ackedAtKill = flood.acknowledgedCount;
    process.kill(pid, 'SIGKILL');

    const result = await running;
    await probe.drained('embed', 30_000, () => rs.logs.tail());

    expect(ackedAtKill).toBeLessThan(total);
    expect(stalled.length).toBeGreaterThan(0); // the kill did interrupt jobs, and they were recovered
    expect(await probe.failed('embed')).toBe(0);
    expect(metricValue(await scrape(survivor), 'agent_memory_jobs_total', { queue: 'embed', outcome: 'completed' })).toBeGreaterThan(0);

    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    for (const session of sessions) {
      const stored = audit.sessions.get(`${TENANT}/${session}`)!;
      expect(stored.turnIds.length).toBe(result.acknowledged.get(session)!.size);
      expect(new Set(stored.turnIds)).toEqual(result.acknowledged.get(session));
    }
    console.log(JSON.stringify({ test: 'embedder-crash-flood', total, ackedAtKill, stalledRecovered: stalled.length, outcomes: Object.fromEntries(result.outcomes) }));
  }, 120_000);
});
