import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, OTHER_KEY, type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';
import { metricValue } from './support/prometheus';
import { waitUntil } from './support/wait-until';

const MAX_BULK = 2;
const TURNS = 400;
/** 400 turns of about 80 bytes: a body well over the 16 KiB that makes a write bulk. */
const bulk = (tag: string, n = TURNS) => ({ turns: Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${tag} turn ${i}: the parcel is in depot ${i % 7} until Friday` })) });

/**
 * Fairness between tenants. Admission: each tenant may have TENANT_MAX_BULK_WRITES bulk writes in progress on an API
 * replica. Work: a tenant with a backlog of embed jobs does not hold up another tenant's single turn. The embed queue
 * is paused from the test, so ?wait=true writes stay in progress, and the queue's order is set, before it runs.
 */
describe('fairness between tenants', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(redis, { TENANT_MAX_BULK_WRITES: String(MAX_BULK), JOB_TIMEOUT_MS: '60000' }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  it('answers 429 with Retry-After to the tenant past its bound, while the other tenant and small writes are admitted', async () => {
    await probe.queues.embed.pause();
    const aborts = Array.from({ length: MAX_BULK }, () => new AbortController());
    const held = aborts.map((a, i) =>
      fetch(`${rs.stack.apiUrl}/v1/sessions/b-held-${i}/turns?wait=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OTHER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(bulk(`held ${i}`)),
        signal: a.signal,
      }).catch((err: Error) => err),
    );
    // Both are past admission once all their jobs are queued.
    await waitUntil('the held writes are queued', async () => (await probe.queues.embed.getWaitingCount()) === MAX_BULK * TURNS, 20_000);

    const refused = await rs.call('POST', '/v1/sessions/b-more/turns', bulk('more'), OTHER_KEY);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.text()).toMatch(/TENANT_MAX_BULK_WRITES 2/);

    // The other tenant's bulk writes, up to its own bound at once, and the busy tenant's small write, go through.
    const others = await Promise.all([rs.call('POST', '/v1/sessions/a-1/turns', bulk('a1'), API_KEY), rs.call('POST', '/v1/sessions/a-2/turns', bulk('a2'), API_KEY)]);
    expect(others.map((r) => r.status)).toEqual([202, 202]);
    expect((await rs.call('POST', '/v1/sessions/b-small/turns', { role: 'user', content: 'one small turn' }, OTHER_KEY)).status).toBe(202);

    const metrics = await (await fetch(`${rs.stack.apiUrl}/metrics`)).text();
    expect(metricValue(metrics, 'agent_memory_tenants_shed', { service: 'api' })).toBe(1);
    expect(metricValue(metrics, 'agent_memory_writes_shed_total', { reason: 'concurrent_writes', service: 'api' })).toBe(1);

    // A client that gives up frees its slot: the next bulk write is admitted.
    aborts[0].abort();
    await waitUntil('a slot is free again', async () => (await rs.call('POST', '/v1/sessions/b-after-abort/turns', bulk('after abort'), OTHER_KEY)).status === 202, 10_000);

    // And one that is answered frees its slot too.
    await probe.queues.embed.resume();
    expect(((await held[1]) as Response).status).toBe(200);
    const again = await Promise.all([rs.call('POST', '/v1/sessions/b-again-1/turns', bulk('again 1'), OTHER_KEY), rs.call('POST', '/v1/sessions/b-again-2/turns', bulk('again 2'), OTHER_KEY)]);
    expect(again.map((r) => r.status)).toEqual([202, 202]);
    await probe.drained('embed', 60_000, () => rs.logs.tail());
  }, 120_000);

  it("processes one tenant's single turn before another tenant's backlog drains", async () => {
    await probe.queues.embed.pause();
    // 4,000 turns of B: the first 1,000 in the express lane, the rest prioritized behind it.
    for (let b = 0; b < 8; b++) expect((await rs.call('POST', '/v1/sessions/b-backlog/turns', bulk(`backlog ${b}`, 500), OTHER_KEY)).status).toBe(202);
    const single = rs.call('POST', '/v1/sessions/a-single/turns?wait=true', { role: 'user', content: 'my passport expires in March' }, API_KEY);
    const queued = async () => Object.values(await probe.queues.embed.getJobCounts('wait', 'prioritized')).reduce((a, b) => a + b, 0);
    await waitUntil("A's turn is queued behind B's backlog", async () => (await queued()) === 4001, 20_000);

    await probe.queues.embed.resume();
    expect((await single).status).toBe(200);
    const bLeft = await probe.pending('embed');
    console.log(JSON.stringify({ test: 'tenant-fairness', bTurnsStillQueuedWhenAsTurnWasStored: bLeft }));
    // Without the lanes A's turn came after all 4,000 (at most EMBED_CONCURRENCY of B's could still be running).
    expect(bLeft).toBeGreaterThan(1000);
    await probe.drained('embed', 120_000, () => rs.logs.tail());
  }, 180_000);
});
