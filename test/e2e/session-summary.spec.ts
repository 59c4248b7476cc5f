import { join } from 'node:path';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { countTokens } from '@app/memory/context/tokenizer';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { freePort, RedisServer } from '../support/redis-server';
import { REDIS_TARGETS } from '../support/redis-targets';
import { type ReliabilityStack, startReliabilityStack } from '../reliability/support/reliability-stack';
import { keysHolding } from '../reliability/support/keys-holding';
import { QueueProbe } from '../reliability/support/queue-probe';
import { waitUntil } from '../reliability/support/wait-until';

interface Version {
  text: string;
  fromSeq: number;
  toSeq: number;
  addedFromSeq: number;
  addedTurns: number;
  createdAt: string;
}
interface SummaryBody {
  sessionId: string;
  current: Version | null;
  watermark: number;
  versions: Version[];
}
interface ContextBody {
  messages: { role: string; content: string }[];
  text: string;
  tokens: number;
  memories: { turnId: string }[];
  summary?: { text: string; fromSeq: number; toSeq: number };
  dropped: number;
  droppedParts: Record<'preamble' | 'summary' | 'memories' | 'recent', number>;
}

const RECENT_TURNS = 4;
/** Each synthetic turn is about 40 tokens: a summary folds in about 5 turns at a time, 12 at most. */
const THRESHOLD = 200;
const MAX_TURNS = 12;

/** A LoCoMo-like turn: two speakers, small talk with names, places and dates; `seq` makes it unique. */
const turnText = (session: string, seq: number) =>
  `[${session}-${seq}] ${seq % 2 ? 'Caroline' : 'Melanie'}: on day ${seq} I went to ${['the lake', 'a pottery class', 'the LGBTQ support group', 'a concert', 'the park'][seq % 5]} ` +
  `with ${['my kids', 'a friend', 'my partner'][seq % 3]}, and we talked about ${['painting', 'adoption', 'camping', 'music'][seq % 4]} for a while.`;

/**
 * The scripted summariser: the previous summary, then "#seq" for every turn it was sent, so the current summary
 * names every turn folded into it, once each, in order. Facts: none (extraction runs, and states nothing).
 */
function scriptedReply(messages: { role: string; content: string }[], request: Record<string, unknown>): string {
  const name = (request.response_format as { json_schema?: { name?: string } } | undefined)?.json_schema?.name;
  if (name === 'memory_facts') return JSON.stringify({ facts: [] });
  if (name === 'session_summary') {
    const input = JSON.parse(messages.at(-1)!.content) as { previousSummary: string | null; turns: { seq: number; content: string }[] };
    const marker = /^\[([a-z0-9-]+)-\d+\]/.exec(input.turns[0].content)?.[1] ?? '?';
    const seqs = input.turns.map((t) => `#${t.seq}`).join(' ');
    return JSON.stringify({ summary: input.previousSummary ? `${input.previousSummary} ${seqs}` : `Summary of ${marker}: ${seqs}` });
  }
  return 'scripted answer';
}

/** The seqs a scripted summary names, in order. */
const seqsOf = (text: string) => [...text.matchAll(/#(\d+)/g)].map((m) => Number(m[1]));
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Rolling session summaries end to end, against the OpenAI wire format: turns are written through the API, the embedder
 * queues the session's summary job beside its extraction, the extractor folds the turns that left the recent window into
 * the summary with a scripted LLM (strict structured output), and the context, the summary route and forgetting show it.
 */
describe.each(REDIS_TARGETS)('rolling session summaries, on $name', ({ make }) => {
  const redis = make();
  /** While set, the scripted LLM holds summary requests (the extractor is killed meanwhile). */
  let holdSummaries = false;
  const wire = new OpenAiWireServer({
    dim: 64,
    reply: scriptedReply,
    holdMs: (request) => (holdSummaries && JSON.stringify(request.response_format ?? {}).includes('session_summary') ? 30_000 : 0),
  });
  const env = () => ({
    LLM_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: wire.baseURL,
    PROVIDER_MAX_RETRIES: '0',
    RECENT_TURNS: String(RECENT_TURNS),
    SUMMARY_THRESHOLD_TOKENS: String(THRESHOLD),
    SUMMARY_MAX_TURNS: String(MAX_TURNS),
    SUMMARY_MAX_VERSIONS: '1000',
    EXTRACT_AFTER_TURNS: '4',
    EXTRACT_QUIET_MS: '200',
    JOB_LOCK_MS: '1000',
    JOB_STALLED_INTERVAL_MS: '1000',
  });
  let rs: ReliabilityStack;
  let probe: QueueProbe;
  let replacement: ManagedProcess | undefined;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis, env());
    probe = new QueueProbe(redis);
  }, 90_000);

  afterAll(async () => {
    await probe?.close();
    await replacement?.stop();
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  const write = async (session: string, from: number, to: number, userId?: string) => {
    const turns = range(from, to).map((seq) => ({ role: seq % 2 ? 'user' : 'assistant', content: turnText(session, seq), id: `${session}:${seq}` }));
    const res = await rs.call('POST', `/v1/sessions/${session}/turns?wait=true`, { turns, ...(userId ? { userId } : {}) });
    expect(res.status).toBe(200);
  };
  const summary = async (session: string) => {
    const res = await rs.call('GET', `/v1/sessions/${session}/summary`);
    return { status: res.status, body: (await res.json()) as SummaryBody };
  };
  /** Waits until the summary reaches `watermark` and the extract queue is idle. */
  const summarised = async (session: string, watermark: number) => {
    await waitUntil(`${session} summarised up to ${watermark}`, async () => (await summary(session)).body.watermark >= watermark, 30_000, () => rs.logs.tail());
    await probe.drained('extract', 30_000, () => rs.logs.tail());
  };
  /** Every turn summarised is named once, in order, and the versions chain without a gap or an overlap. */
  const expectWhole = (body: SummaryBody, from: number) => {
    expect(body.current).not.toBeNull();
    expect(seqsOf(body.current!.text)).toEqual(range(from, body.watermark));
    expect(body.current!.toSeq).toBe(body.watermark);
    const oldestFirst = [...body.versions].reverse();
    oldestFirst.forEach((v, i) => {
      expect(v.fromSeq).toBe(from);
      expect(v.addedFromSeq).toBe(i === 0 ? from : oldestFirst[i - 1].toSeq + 1);
      expect(v.toSeq - v.addedFromSeq + 1).toBe(v.addedTurns);
    });
  };

  it('summarises a LoCoMo-sized session incrementally, past the recent window only, and shows the summary in the context', async () => {
    const total = 300;
    for (let from = 1; from <= total; from += 30) await write('locomo', from, from + 29);
    // Everything but the recent window and a remainder below the threshold gets summarised.
    const window = total - RECENT_TURNS;
    await waitUntil('the summary nears the recent window', async () => (await summary('locomo')).body.watermark >= window - MAX_TURNS, 60_000, () => rs.logs.tail());
    await probe.drained('extract', 30_000, () => rs.logs.tail());
    const { body } = await summary('locomo');
    expect(body.watermark).toBeLessThanOrEqual(window);
    const left = range(body.watermark + 1, window).reduce((n, seq) => n + countTokens(turnText('locomo', seq)), 0);
    expect(left).toBeLessThan(THRESHOLD);
    expectWhole(body, 1);
    expect(body.versions.length).toBeGreaterThan(10); // incremental: many small folds, not one
    for (const v of body.versions) expect(v.addedTurns).toBeLessThanOrEqual(MAX_TURNS);

    const ctx = await rs.call('POST', '/v1/sessions/locomo/context', { query: 'What did Caroline do at the lake?', recentTurns: RECENT_TURNS, maxTokens: 4000 });
    const context = (await ctx.json()) as ContextBody;
    expect(context.summary).toEqual({ text: body.current!.text, fromSeq: 1, toSeq: body.watermark });
    expect(context.messages[0].content).toContain(`## Summary of the earlier conversation\n- (turns 1-${body.watermark}) Summary of locomo:`);
    expect(context.messages.slice(1).map((m) => m.content)).toEqual(range(total - RECENT_TURNS + 1, total).map((seq) => turnText('locomo', seq)));
    expect(context.tokens).toBe(countTokens(context.text));
    expect(context.tokens).toBeLessThanOrEqual(4000);
  }, 180_000);

  it('keeps a tight budget, preamble included, and lists nothing it dropped', async () => {
    for (const maxTokens of [1, 30, 120, 400]) {
      const res = await rs.call('POST', '/v1/sessions/locomo/context', { query: 'pottery class with a friend', maxTokens });
      expect(res.status).toBe(200);
      const body = (await res.json()) as ContextBody;
      const sent = body.messages.reduce((n, m) => n + countTokens(m.content), 0);
      expect(sent).toBeLessThanOrEqual(maxTokens);
      expect(body.tokens).toBe(countTokens(body.text));
      expect(body.tokens).toBeLessThanOrEqual(maxTokens);
      expect(body.dropped).toBe(body.droppedParts.memories + body.droppedParts.recent);
      // Every memory listed is in the text (shown as a memory or a recent turn).
      for (const m of body.memories) expect(body.text).toContain(`[locomo-${Number(m.turnId.split(':')[1])}]`);
      if (maxTokens < 100) expect(body.droppedParts.preamble).toBe(1);
    }
  });

  it('loses no turn and folds none twice when the extractor is SIGKILLed mid-summary', async () => {
    const extractor = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('extractor'))![1];
    const { pid } = (await (await fetch(extractor.replace('/metrics', '/healthz'))).json()) as { pid: number };
    const asked = () => wire.requests.filter((r) => JSON.stringify(r.body).includes('session_summary') && JSON.stringify(r.body).includes('[kill-')).length;
    holdSummaries = true;
    await write('kill', 1, 40);
    await waitUntil('the extractor is summarising', async () => asked() > 0, 20_000, () => rs.logs.tail());
    process.kill(pid, 'SIGKILL');
    holdSummaries = false;
    const port = await freePort();
    replacement = new ManagedProcess('extractor-2', process.execPath, [join(repoRoot(), 'dist/apps/extractor/src/main.js')], rs.logs.sink, {
      PATH: process.env.PATH ?? '',
      ...redis.env,
      METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
      EMBEDDING_DIM: '64',
      ...env(),
    });
    await replacement.start();
    await write('kill', 41, 60);
    await summarised('kill', 60 - RECENT_TURNS - MAX_TURNS);
    const { body } = await summary('kill');
    expectWhole(body, 1);

    // A replayed job (as after a crash between writing and completing) folds nothing in again.
    const before = body.versions.length;
    const job = await probe.queues.extract.add('summarise-session', { tenant: 'rel', session: 'kill' }, { jobId: 'replay-kill' });
    await waitUntil('the replay ran', async () => (await job.isCompleted()) || (await probe.pending('extract')) === 0, 20_000);
    const after = (await summary('kill')).body;
    expect(after.versions).toHaveLength(before);
    expectWhole(after, 1);
  }, 120_000);

  it('forgets a turn: every version that covered it goes, and the turns after it are summarised again without it', async () => {
    await write('turn', 1, 40);
    await summarised('turn', 40 - RECENT_TURNS - MAX_TURNS);
    const first = (await summary('turn')).body;
    expect(first.watermark).toBeGreaterThan(12);
    const gone = 10;
    expect((await rs.call('DELETE', `/v1/sessions/turn/turns/${encodeURIComponent(`turn:${gone}`)}`)).status).toBe(200);
    // No version names it any more (a summary job queued before the DELETE may already have folded the turns after it in again).
    const rolled = (await summary('turn')).body;
    for (const v of rolled.versions) expect(seqsOf(v.text)).not.toContain(gone);
    expect(rolled.watermark).toBe(rolled.current?.toSeq ?? 0);
    // The next write queues the summary job again; the forgotten turn is never folded back in.
    await write('turn', 41, 44);
    await summarised('turn', first.watermark);
    const again = (await summary('turn')).body;
    expect(seqsOf(again.current!.text)).toEqual(range(1, again.watermark).filter((seq) => seq !== gone));
  }, 90_000);

  it('forgets a session and a user: no summary is left, and no key holds their turns', async () => {
    await write('forget-s', 1, 40);
    await write('forget-u', 1, 40, 'forgetful');
    await summarised('forget-s', 1);
    await summarised('forget-u', 1);
    expect(await keysHolding(redis, 'Summary of forget-s')).not.toEqual([]);
    expect((await rs.call('DELETE', '/v1/sessions/forget-s')).status).toBe(200);
    expect((await rs.call('DELETE', '/v1/users/forgetful')).status).toBe(200);
    await probe.drained('extract', 20_000, () => rs.logs.tail());
    for (const session of ['forget-s', 'forget-u']) {
      expect((await summary(session)).status).toBe(404);
      expect(await keysHolding(redis, `[${session}-`)).toEqual([]);
      expect(await keysHolding(redis, `Summary of ${session}`)).toEqual([]);
    }
  }, 90_000);
});

describe('session summaries with the offline responder (LLM_PROVIDER=local)', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;

  beforeAll(async () => {
    await redis.start();
    rs = await startReliabilityStack(redis.url, { RECENT_TURNS: '2', SUMMARY_THRESHOLD_TOKENS: '1' });
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await redis.stop();
  });

  it('writes none (no model to summarise with): the route says so with an empty summary, the context has none', async () => {
    const turns = range(1, 12).map((seq) => ({ role: seq % 2 ? 'user' : 'assistant', content: turnText('offline', seq) }));
    expect((await rs.call('POST', '/v1/sessions/offline/turns?wait=true', { turns })).status).toBe(200);
    const res = await rs.call('GET', '/v1/sessions/offline/summary');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sessionId: 'offline', current: null, watermark: 0, versions: [] });
    const context = (await (await rs.call('POST', '/v1/sessions/offline/context', { query: 'lake' })).json()) as ContextBody;
    expect(context.summary).toBeUndefined();
    expect(context.droppedParts.summary).toBe(0);
    expect((await rs.call('GET', '/v1/sessions/never-was/summary')).status).toBe(404);
  });
});
