import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { DIM, OTHER_KEY, type ReliabilityStack, useReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { waitUntil } from './support/wait-until';

const MAX_WAITING = 50;
const RATE_LIMIT = 300;
const BATCH = 10;

/**
 * Load shedding: past QUEUE_MAX_WAITING waiting embed jobs the API answers 503 with Retry-After instead of
 * letting the queue grow (the embed queue is paused from the test, as if every embedder were stuck), and a
 * tenant over its rate limit gets 429 while another tenant still gets through.
 */
describe('load shedding', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;
  const acknowledged = new Set<string>();

  useReliabilityStack(redis, { QUEUE_MAX_WAITING: String(MAX_WAITING), RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  /** One batch of BATCH turns; its ids are recorded when the API acknowledges it with 202. */
  const postBatch = async (n: number) => {
    const turns = Array.from({ length: BATCH }, (_, i) => ({ role: 'user', content: `backlog ${n}.${i}`, id: `bp-${n}-${i}` }));
    const res = await rs.call('POST', '/v1/sessions/backlog/turns', { turns });
    const body = await res.text();
    if (res.status === 202) turns.forEach((t) => acknowledged.add(t.id));
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  };

  it('answers 503 with Retry-After once the embed queue is full, and the queue stays bounded', async () => {
    await probe.queues.embed.pause();
    let shed: Awaited<ReturnType<typeof postBatch>> | undefined;
    for (let n = 0; n < 100 && !shed; n++) {
      const r = await postBatch(n);
      if (r.status === 503) shed = r;
      else expect(r.status).toBe(202);
    }
    expect(shed).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
    expect(shed!.body).toMatch(/the embed queue is full/);
    // Depth is sampled every 250 ms, so a few batches more than the bound may get in; never an unbounded queue.
    const waiting = await probe.queues.embed.getWaitingCount();
    expect(waiting).toBeGreaterThan(MAX_WAITING);
    expect(waiting).toBeLessThan(MAX_WAITING + 100 * BATCH);
    console.log(JSON.stringify({ test: 'queue-backpressure', maxWaiting: MAX_WAITING, waitingWhenShed: waiting, acknowledged: acknowledged.size }));
  });

  it('keeps /healthz and /metrics answering 200 while shedding (probes and scrapes are not load)', async () => {
    const [health, metrics] = await Promise.all([fetch(`${rs.stack.apiUrl}/healthz`), fetch(`${rs.stack.apiUrl}/metrics`)]);
    expect([health.status, metrics.status]).toEqual([200, 200]);
  });

  it('accepts writes again once the queue drains, and stores every acknowledged turn exactly once', async () => {
    await probe.queues.embed.resume();
    await probe.drained('embed', 30_000, () => rs.logs.tail());
    let n = 1000;
    await waitUntil('a write is accepted again', async () => (await postBatch(n++)).status === 202, 5000);
    await probe.drained('embed', 30_000, () => rs.logs.tail());
    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    expect(new Set(audit.sessions.get(`${TENANT}/backlog`)!.turnIds)).toEqual(acknowledged);
  });

  it('limits one tenant with 429 while another tenant still gets through', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < RATE_LIMIT + 10 && !limited; i++) {
      const res = await rs.call('GET', '/v1/sessions/limited/turns?limit=1');
      await res.arrayBuffer();
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(RATE_LIMIT);
    const other = await rs.call('GET', '/v1/sessions/limited/turns?limit=1', undefined, OTHER_KEY);
    expect(other.status).toBe(200);
    console.log(JSON.stringify({ test: 'rate-limit', limit: RATE_LIMIT, admittedBefore429: statuses.filter((s) => s === 200).length, headers: Object.fromEntries([...limited!.headers].filter(([k]) => /retry|ratelimit/i.test(k))) }));
  });

  it('sends a standard Retry-After header with the 429 (clients do not know Retry-After-<throttler>)', async () => {
    const res = await rs.call('GET', '/v1/sessions/limited/turns?limit=1');
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, expect.stringMatching(/^\d+$/)]);
  });
});
