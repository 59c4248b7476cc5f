import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { DIM, OTHER_KEY, type ReliabilityStack, startReliabilityStack, TENANT } from './support/reliability-stack';
import { QueueProbe } from './support/queue-probe';
import { auditStore } from './support/store-audit';

/** One token per character in the embedding models' encodings (and in o200k_base): exact token counts. */
const tokens = (n: number) => '你'.repeat(n);
/** EMBEDDING_MAX_INPUT_TOKENS here: small, so that a query over it still fits in a URL (16 KiB of headers). */
const MAX_TOKENS = 1000;
/** The provider's own limit, below the API's: a compatible server whose model takes less than configured. */
const PROVIDER_MAX_TOKENS = 500;

/**
 * One tenant's input that the embedding provider refuses must not fail other tenants' turns that happened to
 * share its micro-batch (the provider rejects the whole request for one input), and input longer than the
 * embedding model takes is refused at the API with a 400 instead of being acknowledged and failing later.
 */
describe('bad input isolation', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis.url, {
      EMBEDDING_PROVIDER: 'openai-compatible',
      OPENAI_BASE_URL: wire.baseURL,
      PROVIDER_MAX_RETRIES: '0',
      JOB_ATTEMPTS: '3',
      // Batches as large as the backlog allows, so the bad turn always shares one with other tenants' turns.
      EMBED_BATCH_WAIT_MS: '50',
      EMBEDDING_MAX_INPUT_TOKENS: String(MAX_TOKENS),
    });
    probe = new QueueProbe(redis.url);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  beforeEach(() => {
    wire.reset();
    wire.maxInputTokens = undefined;
  });

  // Issue 21, defect 2: a compatible server answering 500 (not 400) for the long input made the batcher retry the
  // whole batch, and every job in it spent an attempt: tenant A lost 7 of 300 acknowledged turns.
  it.each([
    [400, /bad_request 400/],
    [500, /server 500/],
  ] as const)("stores every acknowledged turn of tenant A when tenant B's turn in the same micro-batch is refused by the provider with a %i", async (status, reason) => {
    // The API lets B's turn through (below EMBEDDING_MAX_INPUT_TOKENS); the provider refuses every request holding it.
    wire.maxInputTokens = PROVIDER_MAX_TOKENS;
    wire.tooLongStatus = status;
    const [session, neighbour] = [`long-${status}`, `neighbour-${status}`];
    await probe.queues.embed.clean(0, 1000, 'failed');
    await probe.queues.embed.pause();
    const acknowledged = new Set<string>();
    for (let b = 0; b < 12; b++) {
      const turns = Array.from({ length: 25 }, (_, i) => ({ role: 'user', content: `A's note ${b}.${i} about the harbour`, id: `a-${b}-${i}` }));
      const res = await rs.call('POST', `/v1/sessions/${neighbour}/turns`, { turns });
      expect(res.status).toBe(202);
      turns.forEach((t) => acknowledged.add(t.id));
      if (b === 5) expect((await rs.call('POST', `/v1/sessions/${session}/turns`, { role: 'user', content: tokens(800), id: 'b-long' }, OTHER_KEY)).status).toBe(202);
    }
    await probe.queues.embed.resume();
    await probe.drained('embed', 30_000, () => rs.logs.tail());

    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    expect(new Set(audit.sessions.get(`${TENANT}/${neighbour}`)?.turnIds)).toEqual(acknowledged);
    const failed = await probe.failedReasons('embed', 50);
    expect(failed).toEqual([expect.stringMatching(new RegExp(`^other\\.${session}\\.1\\.[\\w-]+: .*${reason.source}`))]); // job ids are {tenant}.{session}.{seq}.{digest of the turn id}
    const embedCalls = wire.requests.filter((r) => r.path.endsWith('/embeddings')).length;
    const rejected = wire.requests.filter((r) => ((r.body as { input: string[] }).input ?? []).some((t) => t.length === 800)).length;
    console.log(JSON.stringify({ test: 'bad-input-isolation', status, acknowledgedA: acknowledged.size, storedA: audit.sessions.get(`${TENANT}/${neighbour}`)?.turnIds.length, failedJobs: failed.length, embedCalls, callsWithTheBadTurn: rejected }));
  });

  it('refuses input over EMBEDDING_MAX_INPUT_TOKENS with 400 on writes, chat and search, and accepts it at the bound', async () => {
    const over = tokens(MAX_TOKENS + 1);
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/sessions/cap/turns', { role: 'user', content: over }],
      ['POST', '/v1/sessions/cap/turns', { turns: [{ role: 'user', content: 'fine' }, { role: 'user', content: over }] }],
      ['POST', '/v1/sessions/cap/chat', { message: over }],
      ['GET', `/v1/sessions/cap/memories?q=${encodeURIComponent(over)}`, undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await rs.call(method, path, body);
      const text = await res.text();
      expect([method, path.slice(0, 40), res.status]).toEqual([method, path.slice(0, 40), 400]);
      expect(text).toMatch(new RegExp(`at most ${MAX_TOKENS} tokens`));
    }
    const atBound = await rs.call('POST', '/v1/sessions/cap/turns?wait=true', { role: 'user', content: tokens(MAX_TOKENS) });
    expect([atBound.status, await atBound.text()]).toEqual([200, expect.stringContaining('turnId')]);
    const history = (await (await rs.call('GET', '/v1/sessions/cap/turns')).json()) as { total: number };
    expect(history.total).toBe(1);
  });
});
