import { OpenAiWireServer, type WireFault } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { API_KEY, DIM, type ReliabilityStack, startReliabilityStack } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

/** Provider settings that keep every fault short: one SDK retry, 300 ms per call, three job attempts. */
const PROVIDER_ENV = { PROVIDER_MAX_RETRIES: '1', PROVIDER_TIMEOUT_MS: '300', JOB_ATTEMPTS: '3' };
/** Every faulty call must end well before the API's own JOB_TIMEOUT_MS (15 s): a reason, never a hang. */
const BOUND_MS = 10_000;

const timed = async (rs: ReliabilityStack, method: string, path: string, body?: unknown, accept?: string) => {
  const started = Date.now();
  const res = await fetch(`${rs.stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...(accept ? { accept } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, text: await res.text(), ms: Date.now() - started };
};

/**
 * The embedding and LLM providers behind the OpenAI wire format, answering 429, 500, too slowly, with the
 * wrong dimension or NaN (test/support/openai-wire-server.ts). Transient faults are retried; persistent ones
 * fail the job with a reason that reaches the client and the metrics; chat degrades to the memories.
 */
describe('embedding provider faults', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let rs: ReliabilityStack;
  let embedderMetrics: string;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis.url, { EMBEDDING_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, ...PROVIDER_ENV });
    embedderMetrics = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('embedder'))![1];
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  beforeEach(() => wire.reset());

  const write = (session: string, id: string, content = `turn ${id} about the blue bicycle`) =>
    timed(rs, 'POST', `/v1/sessions/${session}/turns?wait=true`, { role: 'user', content, id });
  const history = async (session: string) => (await (await rs.call('GET', `/v1/sessions/${session}/turns`)).json()) as { total: number; turns: { turnId: string }[] };
  const embeddingCalls = () => wire.requests.filter((r) => r.path.endsWith('/embeddings')).length;

  it('retries 429s (the SDK, then the job) and stores the turn once', async () => {
    wire.failNext(3, { kind: 'rate_limit', retryAfterMs: 20 });
    const r = await write('rate-limited', 'rl-1');
    expect([r.status, r.ms < BOUND_MS]).toEqual([200, true]);
    expect(embeddingCalls()).toBe(4);
    expect((await history('rate-limited')).turns.map((t) => t.turnId)).toEqual(['rl-1']);
  });

  const persistent: [string, WireFault, RegExp][] = [
    ['a persistent 500', { kind: 'server_error' }, /server.*500/],
    ['a timeout on every call', { kind: 'slow', delayMs: 2000 }, /timeout|timed out/i],
    ['vectors of the wrong dimension', { kind: 'wrong_dimension', dim: DIM / 2 }, /dimension 32.*expects 64/],
    ['a literal NaN (invalid JSON)', { kind: 'nan', as: 'literal' }, /bad_response/],
    ['a NaN written as null', { kind: 'nan', as: 'null' }, /non-finite/],
  ];
  it.each(persistent)('fails the job with a reason on %s: 502 naming the cause, bounded in time, nothing stored', async (_, fault, reason) => {
    const session = `fault-${fault.kind}-${'as' in fault ? fault.as : 'x'}`.replace(/_/g, '-');
    wire.failNext(100, fault);
    const r = await write(session, 'doomed');
    expect([r.status, r.ms < BOUND_MS]).toEqual([502, true]);
    expect(JSON.parse(r.text).message).toMatch(reason);
    expect((await history(session)).total).toBe(0);
  });

  it('shows the failures in the embedder metrics: provider errors by kind and failed jobs', async () => {
    const text = await scrape(embedderMetrics);
    const errors = (kind: string) => metricValue(text, 'agent_memory_provider_errors_total', { provider_kind: 'embedding', kind });
    expect({ rate_limit: errors('rate_limit') > 0, server: errors('server') > 0, timeout: errors('timeout') > 0, bad_response: errors('bad_response') > 0 })
      .toEqual({ rate_limit: true, server: true, timeout: true, bad_response: true });
    expect(metricValue(text, 'agent_memory_jobs_total', { queue: 'embed', outcome: 'failed' })).toBe(persistent.length);
    expect(metricValue(text, 'agent_memory_jobs_total', { queue: 'embed', outcome: 'retried' })).toBeGreaterThan(0);
  });

  it('stores a turn sent again with the same id once the provider has recovered (a failed job must not block its id)', async () => {
    wire.failNext(100, { kind: 'server_error' });
    expect((await write('resend', 'resend-1')).status).toBe(502);
    wire.reset();
    const again = await write('resend', 'resend-1');
    expect([again.status, again.text]).toEqual([200, expect.stringContaining('resend-1')]);
    expect((await history('resend')).turns.map((t) => t.turnId)).toEqual(['resend-1']);
  });

  it('runs a fresh job that fails at once exactly once, even when its request carries a client id', async () => {
    // Many at once, so some fail within milliseconds of being added: none of them may be taken for an old failed job.
    const before = metricValue(await scrape(embedderMetrics), 'agent_memory_jobs_total', { queue: 'embed', outcome: 'failed' });
    wire.failNext(1000, { kind: 'wrong_dimension', dim: DIM / 2 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => write(`fresh-${i % 4}`, `fresh-${i}`)));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([502]));
    // Each input reached the provider; a job run twice would count twice below. (An input itself may be sent twice:
    // the SDK's one retry after PROVIDER_TIMEOUT_MS, 300 ms here, when a loaded machine delays a reply.)
    const inputs = wire.requests.filter((r) => r.path.endsWith('/embeddings')).flatMap((r) => (r.body as { input: string[] }).input);
    expect(new Set(inputs).size).toBe(40);
    expect(metricValue(await scrape(embedderMetrics), 'agent_memory_jobs_total', { queue: 'embed', outcome: 'failed' }) - before).toBe(40);
  });

  it('stores a turn acknowledged with 202 when it is sent again after its first job failed (no silent loss)', async () => {
    wire.failNext(100, { kind: 'server_error' });
    expect((await write('resend-202', 'resend-2')).status).toBe(502);
    wire.reset();
    const again = await timed(rs, 'POST', '/v1/sessions/resend-202/turns', { role: 'user', content: 'sent again', id: 'resend-2' });
    expect(again.status).toBe(202);
    const stored = async () => (await history('resend-202')).turns.map((t) => t.turnId).join();
    await waitUntil('the turn sent again is stored', async () => (await stored()) !== '', 15_000, () => rs.logs.tail());
    expect(await stored()).toBe('resend-2');
  });
});

describe('LLM provider faults', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let rs: ReliabilityStack;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis.url, { LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, ...PROVIDER_ENV });
    const seeded = await timed(rs, 'POST', '/v1/sessions/llm/turns?wait=true', { role: 'user', content: 'my parking spot is B-17 on level two' });
    expect(seeded.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  beforeEach(() => wire.reset());

  const chat = (accept?: string) => timed(rs, 'POST', '/v1/sessions/llm/chat', { message: 'where is my parking spot?' }, accept);

  it.each([
    ['a persistent 500', { kind: 'server_error' } as WireFault, 'server'],
    ['a timeout', { kind: 'slow', delayMs: 2000 } as WireFault, 'timeout'],
    ['a malformed answer', { kind: 'malformed' } as WireFault, 'bad_response'],
  ])('degrades on %s: 200 with the memories only and the reason, bounded in time', async (_, fault, kind) => {
    wire.failNext(100, fault);
    const r = await chat();
    expect([r.status, r.ms < BOUND_MS]).toEqual([200, true]);
    const body = JSON.parse(r.text) as { degraded?: string; reply: string; memories: { content: string }[] };
    expect(body.degraded).toBe(kind);
    expect(body.memories.map((m) => m.content)).toContain('my parking spot is B-17 on level two');
    expect(body.reply).toContain('B-17');
    // A degraded reply is not an answer: it is never stored as a memory.
    const history = JSON.parse((await timed(rs, 'GET', '/v1/sessions/llm/turns?limit=500')).text) as { turns: { content: string }[] };
    expect(history.turns.some((t) => t.content.includes('[LLM unavailable'))).toBe(false);
  });

  it('ends a stream that stalls after its first words with an error event, bounded in time', async () => {
    wire.failNext(1, { kind: 'stall' });
    const r = await chat('text/event-stream');
    expect([r.status, r.ms < BOUND_MS]).toEqual([200, true]);
    expect(r.text).toMatch(/event: error\ndata: .*stalled: nothing received for 300 ms/);
  });

  it('answers normally again once the provider has recovered, and counts the LLM errors', async () => {
    const r = await chat();
    const body = JSON.parse(r.text) as { degraded?: string; reply: string };
    expect([r.status, body.degraded]).toEqual([200, undefined]);
    expect(body.reply).toMatch(/^You said: where is my parking spot/);
    const text = await scrape(`${rs.stack.apiUrl}/metrics`);
    expect(metricValue(text, 'agent_memory_provider_errors_total', { provider_kind: 'llm' })).toBeGreaterThanOrEqual(3);
  });
});
