import Redis from 'ioredis';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { QueueProbe } from './support/queue-probe';
import { DIM, type ReliabilityStack, startReliabilityStack } from './support/reliability-stack';

/** One SDK retry and three job attempts, short calls: a failing job fails for good within a second or two. */
const PROVIDER_ENV = { PROVIDER_MAX_RETRIES: '1', PROVIDER_TIMEOUT_MS: '300', JOB_ATTEMPTS: '3' };

interface Sent {
  channel: string;
  reply: { jobId: string; result?: unknown; failedReason?: string };
}

/**
 * How job results reach the API: only jobs somebody waits for are answered, each on the reply channel of the API
 * replica that waits (pub/sub, the result in the message), and a job's permanent failure is sent once with its
 * reason. Two API processes (two stacks) on one Redis; the test hears every reply through a pattern subscription and
 * every command through MONITOR.
 */
describe('job replies', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let a: ReliabilityStack;
  let b: ReliabilityStack;
  let probe: QueueProbe;
  let listener: Redis;
  let sent: Sent[] = [];

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    const env = { EMBEDDING_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, ...PROVIDER_ENV };
    a = await startReliabilityStack(redis.url, env);
    b = await startReliabilityStack(redis.url, env);
    probe = new QueueProbe(redis.url);
    listener = new Redis(redis.url);
    listener.on('pmessage', (_pattern: string, channel: string, message: string) => sent.push({ channel, reply: JSON.parse(message) as Sent['reply'] }));
    await listener.psubscribe('mem-sys:replies:*');
  }, 90_000);

  afterAll(async () => {
    listener?.disconnect();
    await probe?.close();
    await Promise.all([a?.stack.stop(), b?.stack.stop()]);
    await Promise.all([redis.stop(), wire.stop()]);
  });

  beforeEach(() => {
    wire.reset();
    sent = [];
  });

  const json = async (res: Promise<Response>) => {
    const r = await res;
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const write = (rs: ReliabilityStack, session: string, id: string, wait = true) =>
    json(rs.call('POST', `/v1/sessions/${session}/turns${wait ? '?wait=true' : ''}`, { role: 'user', content: `turn ${id} about the blue bicycle`, id }));
  const search = (rs: ReliabilityStack, session: string) => json(rs.call('GET', `/v1/sessions/${session}/memories?q=blue%20bicycle`));
  const channels = () => [...new Set(sent.map((s) => s.channel))];
  /** A reply is published before its request is answered, but reaches this listener on a socket of its own. */
  const settled = () => new Promise((r) => setTimeout(r, 200));
  /** Failed attempts that were retried, by the embedders of both stacks (either may run a job). */
  const retriedAttempts = async () => {
    const embedders = [a, b].map((rs) => Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('embedder'))![1]);
    const counts = await Promise.all(embedders.map(async (url) => metricValue(await scrape(url), 'agent_memory_jobs_total', { queue: 'embed', outcome: 'retried' })));
    return counts.reduce((x, y) => x + y, 0);
  };

  it("answers a waited write and a search on the waiting replica's own channel, with the results in the messages", async () => {
    const written = await write(a, 'answered', 'w-1');
    expect(written.status).toBe(200);
    const found = await search(a, 'answered');
    expect(found.status).toBe(200);
    expect((found.body.memories as { content: string }[]).map((m) => m.content)).toEqual(['turn w-1 about the blue bicycle']);
    await settled();
    expect(sent).toEqual([
      { channel: expect.stringMatching(/^mem-sys:replies:/), reply: { jobId: expect.stringMatching(/^rel\.answered\.1\./), result: { seq: 1, outcome: 'stored' } } },
      { channel: expect.stringMatching(/^mem-sys:replies:/), reply: { jobId: expect.stringMatching(/^r\./), result: expect.objectContaining({ memories: [expect.objectContaining({ content: 'turn w-1 about the blue bicycle' })] }) } },
    ]);
    // REST writes wait in the API's ingest thread, on a channel of its own; searches on the main thread's.
    expect(sent[1].channel).not.toBe(sent[0].channel);
  });

  it("gives each API replica the replies to its own jobs only: one subscriber per channel, none to another's", async () => {
    expect((await write(a, 'replicas', 'r-a')).status).toBe(200);
    expect((await search(a, 'replicas')).status).toBe(200);
    await settled();
    const ofA = channels();
    sent = [];
    expect((await write(b, 'replicas', 'r-b')).status).toBe(200);
    expect((await search(b, 'replicas')).status).toBe(200);
    await settled();
    const ofB = channels();
    // Two channels per replica: its main thread's (searches) and its ingest thread's (REST writes).
    expect([ofA.length, ofB.length]).toEqual([2, 2]);
    expect(ofB.filter((c) => ofA.includes(c))).toEqual([]);
    // Each one is subscribed once, by its own thread: a replica never receives a message sent to the other.
    const client = new Redis(redis.url);
    try {
      expect(((await client.pubsub('CHANNELS', 'mem-sys:replies:*')) as string[]).sort()).toEqual([...ofA, ...ofB].sort());
      expect(await client.pubsub('NUMSUB', ...ofA, ...ofB)).toEqual([...ofA, ...ofB].flatMap((c) => [c, 1]));
    } finally {
      client.disconnect();
    }
  });

  it('sends a job that fails for good its reason once (not each failed attempt), and an attempt that is retried nothing', async () => {
    const before = await retriedAttempts();
    // The first attempt's call and its SDK retry fail; the job's second attempt stores the turn.
    wire.failNext(2, { kind: 'server_error' });
    const retried = await write(a, 'flaky', 'f-1');
    expect(retried.status).toBe(200);
    // Every attempt that failed (its third: all three fail) is retried: one reply, with the reason of the last.
    wire.failNext(100, { kind: 'server_error' });
    const exhausted = await write(a, 'down', 'd-1');
    expect([exhausted.status, exhausted.body.message]).toEqual([502, expect.stringMatching(/server.*500/)]);
    // UnrecoverableError: no retry at all.
    wire.reset();
    wire.failNext(100, { kind: 'wrong_dimension', dim: DIM / 2 });
    const permanent = await write(a, 'wrong-dim', 'p-1');
    expect([permanent.status, permanent.body.message]).toEqual([502, expect.stringMatching(/dimension 32.*expects 64/)]);
    await settled();

    expect((await retriedAttempts()) - before).toBe(3); // flaky's first attempt, down's first two
    expect(sent.map((s) => s.reply)).toEqual([
      { jobId: expect.stringMatching(/^rel\.flaky\.1\./), result: { seq: 1, outcome: 'stored' } },
      { jobId: expect.stringMatching(/^rel\.down\.1\./), failedReason: expect.stringMatching(/server.*500/) },
      { jobId: expect.stringMatching(/^rel\.wrong-dim\.1\./), failedReason: expect.stringMatching(/dimension 32.*expects 64/) },
    ]);
  });

  it('sends nothing for writes nobody waits for: no reply, and nobody reads the queue events', async () => {
    const monitor = await new Redis(redis.url).monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
    try {
      const batch = { turns: Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `quiet turn ${i}`, id: `q-${i}` })) };
      expect((await a.call('POST', '/v1/sessions/quiet/turns', batch)).status).toBe(202);
      expect((await b.call('POST', '/v1/sessions/quiet/turns', { role: 'user', content: 'one more', id: 'q-b' })).status).toBe(202);
      await probe.drained('embed', 20_000);
      const history = await json(a.call('GET', '/v1/sessions/quiet/turns?limit=100'));
      expect(history.body.total).toBe(21);
      await settled();
    } finally {
      monitor.disconnect();
    }
    expect(sent).toEqual([]);
    const upper = (args: string[]) => args.map((a) => a.toUpperCase());
    expect(commands.filter((args) => upper(args)[0] === 'PUBLISH')).toEqual([]);
    // The events of the embed queue's jobs are written by BullMQ, but no process of the service reads them.
    expect(commands.filter((args) => upper(args)[0] === 'XREAD' && args.some((a) => a.endsWith(':embed:events')))).toEqual([]);
  });
});
