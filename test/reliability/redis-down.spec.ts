import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, DIM, type ReliabilityStack, startReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';
import { waitUntil } from './support/wait-until';

/** Far below JOB_TIMEOUT_MS (15 s): a shed request must not wait for anything. */
const FAST_MS = 2000;

/**
 * Redis down: the API sheds every request at once with 503 and Retry-After instead of hanging, and once Redis
 * is back the API and the workers reconnect by themselves.
 */
describe('Redis down', () => {
  const redis = new RedisServer(['--save', '', '--appendonly', 'yes']);
  let rs: ReliabilityStack;

  const endpoints: [string, string, unknown?][] = [
    ['POST', '/v1/sessions/down/turns', { role: 'user', content: 'written while Redis is down' }],
    ['POST', '/v1/sessions/down/turns?wait=true', { role: 'user', content: 'written while Redis is down' }],
    ['POST', '/v1/sessions/down/chat', { message: 'what did I write?' }],
    ['GET', '/v1/sessions/down/memories?q=written'],
    ['GET', '/v1/sessions/down/turns'],
    ['DELETE', '/v1/sessions/down'],
  ];

  const timed = async (method: string, path: string, body?: unknown) => {
    const started = Date.now();
    const res = await rs.call(method, path, body);
    const text = await res.text();
    return { path: `${method} ${path}`, status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started, text };
  };

  beforeAll(async () => {
    await redis.start();
    // Jobs whose lock was lost in the outage come back after lock + stalled interval: short ones keep this quick.
    rs = await startReliabilityStack(redis.url, { JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000' });
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await redis.stop();
  });

  it('answers 503 with Retry-After within 2 s on every endpoint, and /readyz 503, while Redis is down', async () => {
    await redis.stop(true);
    // Requests racing the outage itself are the last test's subject; these come once the API has noticed it.
    await waitUntil('/readyz answers 503', async () => (await rs.call('GET', '/readyz')).status === 503, FAST_MS);
    let slowest = 0;
    for (let round = 0; round < 3; round++) {
      for (const [method, path, body] of endpoints) {
        const r = await timed(method, path, body);
        slowest = Math.max(slowest, r.ms);
        expect([r.path, r.status, r.retryAfter !== null, r.ms < FAST_MS]).toEqual([r.path, 503, true, true]);
        expect(r.text).toMatch(/Redis/);
      }
      await new Promise((r) => setTimeout(r, 500)); // through the client's reconnect backoff, too
    }
    const ready = await timed('GET', '/readyz');
    expect([ready.status, ready.ms < FAST_MS]).toEqual([503, true]);
    console.log(JSON.stringify({ test: 'redis-down', requests: 3 * endpoints.length, slowestMs: slowest }));
  });

  it('keeps liveness /healthz at 200 while Redis is down (a Redis outage must not get the API restarted)', async () => {
    const r = await timed('GET', '/healthz');
    expect([r.status, r.ms < FAST_MS]).toEqual([200, true]);
  });

  it('keeps /metrics answering 200 quickly while Redis is down (metrics matter most during an outage)', async () => {
    const r = await timed('GET', '/metrics');
    expect([r.status, r.ms < FAST_MS]).toEqual([200, true]);
  });

  it('recovers by itself once Redis is back: /readyz 200, writes and searches work again', async () => {
    await redis.start();
    await waitUntil('/readyz answers 200', async () => (await rs.call('GET', '/readyz')).status === 200, 20_000, () => rs.logs.tail());
    const write = await timed('POST', '/v1/sessions/back/turns?wait=true', { role: 'user', content: 'Redis came back at noon' });
    expect([write.status, write.text]).toEqual([200, expect.stringContaining('turnId')]);
    const search = await rs.call('GET', '/v1/sessions/back/memories?q=when%20did%20Redis%20come%20back');
    expect(((await search.json()) as { memories: { content: string }[] }).memories.map((m) => m.content)).toEqual(['Redis came back at noon']);
  }, 30_000);

  it('answers 503, never 500, to requests in flight when Redis goes down, and loses no acknowledged turn', async () => {
    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: API_KEY, sessions: ['inflight'], loops: 6, batchesPerLoop: 30, batchSize: 20, deadlineMs: 60_000 });
    const running = flood.run();
    await waitUntil('a third of the flood is acknowledged', async () => flood.acknowledgedCount >= 1200, 30_000);
    await redis.stop(true);
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    const result = await running;

    const probe = new QueueProbe(redis.url);
    try {
      await probe.drained('embed', 30_000, () => rs.logs.tail());
    } finally {
      await probe.close();
    }
    const stored = (await auditStore(redis.url, DIM)).sessions.get(`${TENANT}/inflight`)!;
    expect(new Set(stored.turnIds)).toEqual(result.acknowledged.get('inflight'));
    console.log(JSON.stringify({ test: 'redis-down-inflight', outcomes: Object.fromEntries(result.outcomes), reasons: [...result.retryReasons] }));
    expect([...result.outcomes.keys()].filter((o) => o !== 202 && o !== 503)).toEqual([]);
  }, 90_000);
});
