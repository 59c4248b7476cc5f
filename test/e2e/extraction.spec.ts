import { join } from 'node:path';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { freePort, RedisServer } from '../support/redis-server';
import { REDIS_TARGETS } from '../support/redis-targets';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { OTHER_KEY, type ReliabilityStack, startReliabilityStack, TENANT } from '../reliability/support/reliability-stack';
import { keysHolding } from '../reliability/support/keys-holding';
import { QueueProbe } from '../reliability/support/queue-probe';
import { waitUntil } from '../reliability/support/wait-until';

/** What the scripted LLM says about a turn's content: the fact it states (absent: nothing worth remembering). */
interface ScriptedFact {
  content: string;
  type: string;
  entities: string[];
}

/** What it decides for a candidate fact, naming the neighbour by its content. */
type ScriptedDecision = { event: 'NOOP' | 'ADD' } | { event: 'UPDATE'; of: string; content: string } | { event: 'DELETE'; of: string };

interface MemoryView {
  memoryId: string;
  userId: string | null;
  sessionId: string | null;
  content: string;
  type: string;
  entities: string[];
  sources: { sessionId: string; turnId: string }[];
  validFrom: string;
}

/**
 * The extractor end to end against the OpenAI wire format: turns are written through the API, the embedder feeds
 * the extract queue, and the extractor asks a scripted LLM (strict structured output) for facts and for the mem0
 * decision on each; memories are then listed, searched beside turns, versioned and forgotten.
 */
describe.each(REDIS_TARGETS)('long-term memories extracted from turns, on $name', ({ make }) => {
  const redis = make();
  /** 'echo': an answer that is not JSON and repeats the turns (as a confused model does). */
  const facts = new Map<string, ScriptedFact | 'malformed' | 'echo'>();
  const decisions = new Map<string, ScriptedDecision>();
  const wire = new OpenAiWireServer({
    dim: 64,
    reply: (messages, request) => {
      const format = request.response_format as { json_schema?: { name?: string } } | undefined;
      const input = JSON.parse(messages.at(-1)!.content) as Record<string, unknown[]>;
      if (format?.json_schema?.name === 'memory_facts') {
        const turns = input.turns as { id: string; content: string }[];
        if (turns.some((t) => facts.get(t.content) === 'malformed')) return '{"facts": [{"content": 42}]}';
        if (turns.some((t) => facts.get(t.content) === 'echo')) return `Sure! You said: ${turns.map((t) => t.content).join(' / ')}`;
        const stated = turns.flatMap((t) => {
          const f = facts.get(t.content);
          return f && typeof f === 'object' ? [{ ...f, sourceTurnIds: [t.id] }] : [];
        });
        return JSON.stringify({ facts: stated });
      }
      const candidates = input.candidates as { candidate: number; content: string; neighbours: { memoryId: string; content: string }[] }[];
      return JSON.stringify({
        decisions: candidates.map((c) => {
          const d = decisions.get(c.content) ?? { event: 'ADD' };
          const of = 'of' in d ? c.neighbours.find((n) => n.content === d.of)?.memoryId ?? null : null;
          return { candidate: c.candidate, event: d.event, memoryId: of, content: d.event === 'UPDATE' ? d.content : null };
        }),
      });
    },
  });
  const env = () => ({
    LLM_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: wire.baseURL,
    PROVIDER_MAX_RETRIES: '0',
    EXTRACT_AFTER_TURNS: '2',
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
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await replacement?.stop();
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  const json = async (res: Promise<Response>) => {
    const r = await res;
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const write = async (session: string, userId: string | undefined, ...contents: string[]) => {
    const turns = contents.map((content, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content, id: `${session}:${content}` }));
    const res = await rs.call('POST', `/v1/sessions/${session}/turns?wait=true`, { ...(userId ? { userId } : {}), turns });
    expect(res.status).toBe(200);
  };
  const userMemories = async (user: string, key?: string) =>
    ((await json(rs.call('GET', `/v1/users/${user}/memories`, undefined, key))).body.memories as MemoryView[]);
  const contents = (memories: MemoryView[]) => memories.map((m) => m.content).sort();
  /** Waits until the extractions queued so far have run (the queue is empty and the scripted LLM was asked). */
  const extracted = async (factRequests: number) => {
    await waitUntil(`${factRequests} fact requests`, async () => factRequestsSeen() >= factRequests, 20_000, () => rs.logs.tail());
    await probe.drained('extract', 20_000, () => rs.logs.tail());
  };
  const factRequestsSeen = () => wire.requests.filter((r) => JSON.stringify(r.body).includes('"memory_facts"')).length;

  it('adds the facts a session states to its user, with type, entities and source turns', async () => {
    facts.set('I am vegetarian, by the way.', { content: 'The user is vegetarian.', type: 'preference', entities: ['vegetarian'] });
    facts.set('I live in Paris.', { content: 'The user lives in Paris.', type: 'fact', entities: ['Paris'] });
    await write('veg', 'alice', 'I am vegetarian, by the way.', 'Noted.', 'I live in Paris.', 'Lovely city.');
    await waitUntil('two memories of alice', async () => (await userMemories('alice')).length === 2, 20_000, () => rs.logs.tail());
    const memories = await userMemories('alice');
    expect(contents(memories)).toEqual(['The user is vegetarian.', 'The user lives in Paris.']);
    const veg = memories.find((m) => m.content === 'The user is vegetarian.')!;
    expect(veg).toMatchObject({ userId: 'alice', sessionId: null, type: 'preference', entities: ['vegetarian'], sources: [{ sessionId: 'veg', turnId: 'veg:I am vegetarian, by the way.' }] });
    const request = wire.requests.find((r) => JSON.stringify(r.body).includes('"memory_facts"'))!.body as Record<string, unknown>;
    expect(request.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'memory_facts', strict: true } });
    const session = (await json(rs.call('GET', '/v1/sessions/veg/long-term-memories'))).body;
    expect(session).toMatchObject({ total: 2, extraction: true });
  });

  it('ignores a duplicate (NOOP) and supersedes a contradiction, keeping the old version as history', async () => {
    facts.set('Did I mention I am vegetarian?', { content: 'The user is vegetarian!', type: 'preference', entities: ['vegetarian'] });
    decisions.set('The user is vegetarian!', { event: 'NOOP' });
    facts.set('I moved to Berlin last month.', { content: 'The user lives in Berlin.', type: 'fact', entities: ['Berlin'] });
    decisions.set('The user lives in Berlin.', { event: 'UPDATE', of: 'The user lives in Paris.', content: 'The user lives in Berlin (moved from Paris).' });
    const before = factRequestsSeen();
    const paris = (await userMemories('alice')).find((m) => m.content === 'The user lives in Paris.')!;
    await write('move', 'alice', 'Did I mention I am vegetarian?', 'You did.', 'I moved to Berlin last month.', 'Exciting!');
    await extracted(before + 1);
    expect(contents(await userMemories('alice'))).toEqual(['The user is vegetarian.', 'The user lives in Berlin (moved from Paris).']);

    const { status, body } = await json(rs.call('GET', `/v1/memories/${paris.memoryId}/history`));
    expect(status).toBe(200);
    const current = body.current as MemoryView;
    const versions = body.versions as (MemoryView & { validUntil: string; change: string })[];
    expect(current.content).toBe('The user lives in Berlin (moved from Paris).');
    expect(current.sources.map((s) => s.sessionId).sort()).toEqual(['move', 'veg']);
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ content: 'The user lives in Paris.', change: 'update', validFrom: paris.validFrom });
    expect(Date.parse(versions[0].validUntil)).toBeGreaterThanOrEqual(Date.parse(paris.validFrom));
    expect(versions[0].validUntil).toBe(current.validFrom);
  });

  it('deletes a memory that is no longer true, and its history says when it stopped', async () => {
    facts.set('I have a cat called Miso.', { content: 'The user has a cat called Miso.', type: 'fact', entities: ['Miso'] });
    await write('pets', 'alice', 'I have a cat called Miso.', 'Cute!');
    await waitUntil('the cat is remembered', async () => contents(await userMemories('alice')).includes('The user has a cat called Miso.'), 20_000);
    const cat = (await userMemories('alice')).find((m) => m.content === 'The user has a cat called Miso.')!;
    facts.set('Sadly Miso ran away.', { content: 'The user no longer has a cat.', type: 'fact', entities: ['Miso'] });
    decisions.set('The user no longer has a cat.', { event: 'DELETE', of: 'The user has a cat called Miso.' });
    await write('pets', 'alice', 'Sadly Miso ran away.', 'I am sorry.');
    await waitUntil('the cat is forgotten', async () => !contents(await userMemories('alice')).includes('The user has a cat called Miso.'), 20_000);
    const { body } = await json(rs.call('GET', `/v1/memories/${cat.memoryId}/history`));
    expect(body.current).toBeNull();
    expect(body.versions).toMatchObject([{ content: 'The user has a cat called Miso.', change: 'delete' }]);
  });

  it('returns memories beside turns in search and context, with a kinds filter', async () => {
    await probe.drained('extract', 20_000);
    const search = (kinds?: string[]) =>
      json(rs.call('POST', '/v1/memories/search', { query: 'Where does the user live? Berlin', userId: 'alice', mode: 'text', k: 20, ...(kinds ? { kinds } : {}) }));
    const both = (await search()).body.memories as { kind: string; content: string }[];
    expect(both.some((h) => h.kind === 'memory' && h.content === 'The user lives in Berlin (moved from Paris).')).toBe(true);
    expect(both.some((h) => h.kind === 'turn' && h.content === 'I moved to Berlin last month.')).toBe(true);
    expect(((await search(['memory'])).body.memories as { kind: string }[]).every((h) => h.kind === 'memory')).toBe(true);
    expect(((await search(['turn'])).body.memories as { kind: string }[]).every((h) => h.kind === 'turn')).toBe(true);
    // A session's search covers its user's memories.
    const session = (await json(rs.call('GET', '/v1/sessions/pets/memories?q=Berlin&mode=text&kinds=memory'))).body.memories as { kind: string; content: string }[];
    expect(session.map((h) => h.content)).toEqual(['The user lives in Berlin (moved from Paris).']);
    const context = (await json(rs.call('POST', '/v1/sessions/pets/context', { query: 'Where does the user live now, Berlin?', mode: 'text' }))).body;
    expect(context.text).toContain('The user lives in Berlin (moved from Paris).');
  });

  it('keeps memories apart by tenant and user', async () => {
    facts.set('Bob here: I am allergic to peanuts.', { content: 'The user is allergic to peanuts.', type: 'fact', entities: ['peanuts'] });
    await write('bob-1', 'bob', 'Bob here: I am allergic to peanuts.', 'Noted, Bob.');
    await waitUntil('bob has a memory', async () => (await userMemories('bob')).length === 1, 20_000);
    expect(contents(await userMemories('alice'))).not.toContain('The user is allergic to peanuts.');
    const [alice] = await userMemories('alice');
    // The other tenant has an alice too, with nothing extracted; it cannot read or forget this tenant's memories.
    expect(await userMemories('alice', OTHER_KEY)).toEqual([]);
    expect((await rs.call('GET', `/v1/memories/${alice.memoryId}/history`, undefined, OTHER_KEY)).status).toBe(404);
    expect((await rs.call('DELETE', `/v1/memories/${alice.memoryId}`, undefined, OTHER_KEY)).status).toBe(404);
    const search = (await json(rs.call('POST', '/v1/memories/search', { query: 'peanuts allergic', mode: 'text', kinds: ['memory'], userId: 'alice' }))).body;
    expect(search.memories).toEqual([]);
    expect((await rs.call('GET', '/v1/memories/not-a-memory-id/history')).status).toBe(400);
  });

  it('keeps a session without a user its own memories, and forgets them with it', async () => {
    facts.set('Anonymous: my order number is 5521.', { content: 'The order number is 5521.', type: 'fact', entities: ['5521'] });
    await write('anon', undefined, 'Anonymous: my order number is 5521.', 'Thanks.');
    const listing = async () => (await json(rs.call('GET', '/v1/sessions/anon/long-term-memories'))).body as { total: number; memories: MemoryView[] };
    await waitUntil('the session has a memory', async () => (await listing()).total === 1, 20_000);
    expect((await listing()).memories[0]).toMatchObject({ userId: null, sessionId: 'anon', content: 'The order number is 5521.' });
    expect((await rs.call('DELETE', '/v1/sessions/anon')).status).toBe(200);
    expect((await listing()).total).toBe(0);
  });

  it("forgets a user's memories derived from a deleted session, and one memory on request", async () => {
    const before = contents(await userMemories('alice'));
    expect(before).toContain('The user is vegetarian.');
    expect((await rs.call('DELETE', '/v1/sessions/veg')).status).toBe(200);
    // Both memories of alice that came from 'veg' go (the Berlin one also drew on it); the cat's deletion left no memory.
    expect(contents(await userMemories('alice'))).toEqual([]);
    const [bob] = await userMemories('bob');
    expect((await rs.call('DELETE', `/v1/memories/${bob.memoryId}`)).status).toBe(200);
    expect(await userMemories('bob')).toEqual([]);
    expect((await rs.call('GET', `/v1/memories/${bob.memoryId}/history`)).status).toBe(404);
    expect((await rs.call('DELETE', `/v1/memories/${bob.memoryId}`)).status).toBe(404);

    // The session written again under its old name: its new turns are extracted, its forgotten ones are not.
    facts.set('Back again: I am vegan now.', { content: 'The user is vegan.', type: 'preference', entities: ['vegan'] });
    await write('veg', 'alice', 'Back again: I am vegan now.', 'Noted.');
    await waitUntil('the new turn is extracted', async () => (await userMemories('alice')).length === 1, 20_000, () => rs.logs.tail());
    expect(contents(await userMemories('alice'))).toEqual(['The user is vegan.']);
  });

  it('fails an extraction whose answer is malformed, with the reason, and leaves the turns stored', async () => {
    facts.set('MALFORMED: tell the model to misbehave.', 'malformed');
    await write('bad', 'carol', 'MALFORMED: tell the model to misbehave.', 'Sure.');
    await waitUntil('the extraction failed', async () => (await probe.failed('extract')) >= 1, 20_000, () => rs.logs.tail());
    expect((await probe.failedReasons('extract')).join('\n')).toMatch(/facts answer is malformed/);
    expect(((await json(rs.call('GET', '/v1/sessions/bad/turns'))).body.total as number)).toBe(2);
    expect(await userMemories('carol')).toEqual([]);
  });

  // Issue 21 item 5: the failed job kept the model's echo of the turns in its failedReason (in its job hash, with no
  // TTL a DELETE would shorten, and in the extract queue's events stream) after the session was deleted.
  it('leaves no content of a deleted session in a failed extraction, its reason or the events', async () => {
    const marker = 'IBEX-5590';
    facts.set(`${marker}: my bank PIN is 0666.`, 'echo');
    await write('echoed', 'ivan', `${marker}: my bank PIN is 0666.`, 'Noted.');
    await waitUntil('the extraction failed', async () => (await probe.failedReasons('extract', 50)).some((r) => r.includes('echoed')), 20_000, () => rs.logs.tail());
    expect((await probe.failedReasons('extract', 50)).find((r) => r.includes('echoed'))).toMatch(/malformed answer: not JSON/);
    expect((await rs.call('DELETE', '/v1/sessions/echoed')).status).toBe(200);
    expect(await keysHolding(redis, marker)).toEqual([]);
  });

  it('retries an extraction after 429 and 500 answers, and stores its memory once', async () => {
    facts.set('Dave: I prefer window seats.', { content: 'The user prefers window seats.', type: 'preference', entities: ['window seat'] });
    wire.failNext(1, { kind: 'rate_limit' });
    wire.failNext(1, { kind: 'server_error' });
    const before = wire.requests.length;
    await write('dave-1', 'dave', 'Dave: I prefer window seats.', 'Noted.');
    await waitUntil('dave has a memory', async () => (await userMemories('dave')).length === 1, 20_000, () => rs.logs.tail());
    expect(wire.requests.length - before).toBeGreaterThanOrEqual(3);
    await probe.drained('extract', 20_000);
    expect(contents(await userMemories('dave'))).toEqual(['The user prefers window seats.']);
  });

  it('does not pass a turn still on its way: a later turn stored first waits for it, and both are extracted once', async () => {
    // The embedder stores a request's turns in micro-batches, so seq 2 can be stored before seq 1: an extraction run
    // then must not move the watermark past seq 1 (before, it did, and seq 1 was never extracted).
    facts.set('Gina: I ride a red bike.', { content: 'The user rides a red bike.', type: 'fact', entities: ['bike'] });
    facts.set('Gina: my locker code is 4412.', { content: "The user's locker code is 4412.", type: 'fact', entities: ['locker'] });
    const client = redis.client();
    try {
      const store = new MemoryStore(client, new KeySchema());
      const embedder = new LocalEmbedder(64);
      const accepted = await store.accept(TENANT, 'gap', ['g1', 'g2'], { user: 'gina' });
      expect(accepted).toMatchObject({ turns: [{ seq: 1, state: 'new' }, { seq: 2, state: 'new' }] });
      const turn = (seq: number, turnId: string, content: string) =>
        ({ tenant: TENANT, session: 'gap', user: 'gina', seq, turnId, role: 'user' as const, content, timestamp: Date.now(), tokenCount: 8, embedding: embedder.embedOne(content) });
      await store.write([turn(2, 'g2', 'Gina: my locker code is 4412.')]);
      await probe.queues.extract.add('extract-memories', { tenant: TENANT, session: 'gap' }, { jobId: 'gap-early' });
      await probe.drained('extract', 20_000, () => rs.logs.tail());
      expect(await userMemories('gina')).toEqual([]);
      await store.write([turn(1, 'g1', 'Gina: I ride a red bike.')]);
      await probe.queues.extract.add('extract-memories', { tenant: TENANT, session: 'gap' }, { jobId: 'gap-late' });
      await waitUntil('both turns are extracted', async () => (await userMemories('gina')).length === 2, 20_000, () => rs.logs.tail());
      expect(contents(await userMemories('gina'))).toEqual(['The user rides a red bike.', "The user's locker code is 4412."]);
    } finally {
      client.disconnect();
    }
  });

  // Issue 21 item 4: the memories a session learnt while it had no user stayed (listed, and searchable after a rebuild).
  it('forgets with the user the memories its session learnt before the user claimed it', async () => {
    facts.set('Before login: my flight is LH 441.', { content: 'The flight is LH 441.', type: 'fact', entities: ['LH 441'] });
    await write('claimed', undefined, 'Before login: my flight is LH 441.', 'Noted.');
    const listing = async () => (await json(rs.call('GET', '/v1/sessions/claimed/long-term-memories'))).body as { total: number };
    await waitUntil('the session has a memory', async () => (await listing()).total === 1, 20_000, () => rs.logs.tail());
    await write('claimed', 'hank', 'Logged in now.', 'Welcome back.');
    expect((await rs.call('DELETE', '/v1/users/hank')).status).toBe(200);
    expect((await listing()).total).toBe(0);
    const search = (await json(rs.call('POST', '/v1/memories/search', { query: 'flight LH 441', mode: 'text', kinds: ['memory'] }))).body;
    expect(JSON.stringify(search.memories)).not.toContain('LH 441');
  });

  it("forgets a user's memories with the user", async () => {
    expect(await userMemories('dave')).toHaveLength(1);
    expect((await rs.call('DELETE', '/v1/users/dave')).status).toBe(200);
    expect(await userMemories('dave')).toEqual([]);
  });

  it('takes over the job of an extractor killed mid-call, and a replayed job extracts nothing again', async () => {
    facts.set('Erin: my passport expires in June.', { content: "The user's passport expires in June.", type: 'fact', entities: ['passport'] });
    const [, metricsUrl] = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('extractor'))!;
    const { pid } = (await (await fetch(metricsUrl.replace('/metrics', '/healthz'))).json()) as { pid: number };
    wire.failNext(1, { kind: 'slow', delayMs: 20_000 });
    const before = factRequestsSeen();
    await write('erin-1', 'erin', 'Erin: my passport expires in June.', 'Good to know.');
    await waitUntil('the extractor is asking', async () => factRequestsSeen() > before, 20_000);
    process.kill(pid, 'SIGKILL');
    // With no extractor left the API stays ready: turns are still stored and searched, extraction waits.
    const readyz = async () => {
      const res = await fetch(`${rs.stack.apiUrl}/readyz`);
      return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
    };
    expect((await readyz()).checks.extractWorkers).toMatch(/^ok \(1\)$|^none$/);
    await waitUntil('/readyz sees no extractor', async () => (await readyz()).checks.extractWorkers === 'none', 20_000);
    expect((await readyz()).status).toBe(200);
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
    await waitUntil('erin has a memory', async () => (await userMemories('erin')).length === 1, 30_000, () => rs.logs.tail());

    // A replay of the session's extraction (as after a crash between applying and completing) finds nothing new.
    const job = await probe.queues.extract.add('extract-memories', { tenant: 'rel', session: 'erin-1' }, { jobId: 'replay-erin' });
    await waitUntil('the replay ran', async () => (await job.isCompleted()) || (await probe.pending('extract')) === 0, 20_000);
    expect(contents(await userMemories('erin'))).toEqual(["The user's passport expires in June."]);
    expect(await userMemories('erin')).toHaveLength(1);
  }, 60_000);
});

describe('extraction with the offline responder (LLM_PROVIDER=local)', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  beforeAll(async () => {
    await redis.start();
    rs = await startReliabilityStack(redis.url);
    probe = new QueueProbe(redis.url);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await rs?.stack.stop();
    await redis.stop();
  });

  it('is off, says so in /readyz and the listings, and queues no extraction', async () => {
    expect(Object.keys(rs.stack.workerMetrics).some((name) => name.startsWith('extractor'))).toBe(false);
    const ready = (await (await fetch(`${rs.stack.apiUrl}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.extractWorkers).toBe('off (LLM_PROVIDER=local: no model to extract facts with)');
    const turns = [{ role: 'user', content: 'I am vegetarian.' }, { role: 'assistant', content: 'Noted.' }, { role: 'user', content: 'I live in Paris.' }];
    expect((await rs.call('POST', '/v1/sessions/offline/turns?wait=true', { userId: 'alice', turns })).status).toBe(200);
    const counts = await probe.queues.extract.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    const listing = (await (await rs.call('GET', '/v1/users/alice/memories')).json()) as Record<string, unknown>;
    expect(listing).toEqual({ memories: [], total: 0, extraction: false });
  });
});
