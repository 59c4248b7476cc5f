import { loadConfig } from '@app/memory/config/load-config';
import { countTokens } from '@app/memory/context/tokenizer';
import type { Memory as Hit } from '../../apps/cli/src/http/api-types';
import { promSample } from '../../apps/cli/src/stress/prom-text';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';

type Body = Record<string, unknown> & { memories?: Hit[]; message?: string | string[] };

const DAY = 86_400_000;
const OLD = Date.UTC(2020, 2, 1, 10, 0, 0);

/**
 * The API an agent uses besides chat, over real HTTP on a private stack: users across sessions, filtered search,
 * the context endpoint (and /chat sending the very same messages to its LLM), listing and forgetting.
 */
describe('agent API e2e: users, filtered search, context, management', () => {
  const redis = new RedisServer();
  const llm = new OpenAiWireServer({ dim: 8, reply: () => 'Noted.' });
  const apiKey = 'sk-agent-api-0123456789';
  let stack: StackHandle;

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
  const write = async (session: string, body: unknown) => {
    const res = await call('POST', `/v1/sessions/${session}/turns?wait=true`, body);
    expect([res.status, res.body]).toEqual([200, expect.anything()]);
    return res.body.turns as { turnId: string; seq: number }[];
  };
  const search = async (body: unknown) => {
    const res = await call('POST', '/v1/memories/search', body);
    expect([res.status, res.body.message]).toEqual([200, undefined]);
    return res.body.memories!;
  };
  /** Waits until the embed queue has nothing waiting or active: every accepted turn is stored or dropped. */
  const drained = async () => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
      const pending = ['waiting', 'active', 'delayed'].reduce((n, state) => n + (promSample(text, 'agent_memory_queue_jobs', { queue: 'embed', state }) ?? 0), 0);
      if (pending === 0) return;
    }
    throw new Error('the embed queue did not drain');
  };

  beforeAll(async () => {
    await Promise.all([redis.start(), llm.start()]);
    stack = await startStack({
      config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `agents:${apiKey}`, LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: llm.baseURL }),
      redisUrl: redis.url,
      log: () => undefined,
    });
    await write('alice-1', {
      userId: 'alice',
      turns: [
        { id: 'D1:3', role: 'user', content: 'I always prefer aisle seats on flights.', timestamp: '2020-03-01T10:00:00Z', tags: ['preference', 'travel'], metadata: { source: 'onboarding' } },
        { id: 'msg:123', role: 'assistant', content: 'Noted: aisle seats from now on.', timestamp: OLD + 5000 },
      ],
    });
    await write('alice-7', { userId: 'alice', turns: [{ id: 'a.b', role: 'user', content: 'Book me a flight to Lisbon in May.', timestamp: OLD + 30 * DAY, tags: ['travel'] }] });
    await write('bob-1', { userId: 'bob', turns: [{ role: 'user', content: 'I always prefer window seats on flights.', timestamp: OLD + DAY, tags: ['preference'] }] });
    await write('nobody', { role: 'user', content: 'Seats on flights are a topic for anyone.', timestamp: OLD + 2 * DAY });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([redis.stop(), llm.stop()]);
  });

  it("finds a user's memories across the user's sessions, and only theirs, with every field of the turn", async () => {
    const hits = await search({ query: 'which seats do I prefer on flights', userId: 'alice' });
    expect(new Set(hits.map((h) => h.sessionId))).toEqual(new Set(['alice-1', 'alice-7']));
    expect(hits.every((h) => h.userId === 'alice')).toBe(true);
    expect(hits[0]).toEqual({
      kind: 'turn',
      turnId: 'D1:3', sessionId: 'alice-1', userId: 'alice', seq: 1, role: 'user', content: 'I always prefer aisle seats on flights.',
      timestamp: '2020-03-01T10:00:00.000Z', metadata: { source: 'onboarding' }, tags: ['preference', 'travel'],
      similarity: expect.any(Number), textScore: expect.any(Number), vectorScore: expect.any(Number), score: expect.any(Number),
    });
    // The hybrid similarity is its components' weighted sum (HYBRID_TEXT_WEIGHT 0.7), on scales that do not depend on the query.
    expect(hits[0].similarity).toBeCloseTo(0.7 * hits[0].textScore! + 0.3 * hits[0].vectorScore!, 6);
    const bob = await search({ query: 'which seats do I prefer on flights', userId: 'bob' });
    expect(bob.map((h) => [h.sessionId, h.content])).toEqual([['bob-1', 'I always prefer window seats on flights.']]);
    expect(await search({ query: 'seats', userId: 'carol' })).toEqual([]);
  });

  it('refuses a write that names another user for a session (409) and keeps the session as it was', async () => {
    const res = await call('POST', '/v1/sessions/alice-1/turns', { role: 'user', content: 'hijack', userId: 'bob' });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/belongs to user alice/);
    expect((await search({ query: 'hijack', userId: 'bob' })).map((h) => h.content)).not.toContain('hijack');
  });

  it('carries adjacent turns beside each hit with neighbours=n, never as hits, and counts them in the context budget', async () => {
    const q = encodeURIComponent('prefer aisle seats flights');
    const res = await call('GET', `/v1/sessions/alice-1/memories?q=${q}&k=1&neighbours=1&mode=text`);
    expect(res.status).toBe(200);
    expect(res.body.memories!.map((h) => [h.turnId, h.neighbours])).toEqual([
      ['D1:3', [{ turnId: 'msg:123', seq: 2, role: 'assistant', content: 'Noted: aisle seats from now on.', timestamp: new Date(OLD + 5000).toISOString() }]],
    ]);
    expect((await call('GET', `/v1/sessions/alice-1/memories?q=${q}&k=1&mode=text`)).body.memories![0].neighbours).toBeUndefined();
    expect((await call('GET', `/v1/sessions/alice-1/memories?q=${q}&neighbours=6`)).status).toBe(400);
    const body = { query: 'prefer aisle seats flights', k: 1, recentTurns: 0, mode: 'text' };
    const [plain, beside] = await Promise.all([call('POST', '/v1/sessions/alice-1/context', body), call('POST', '/v1/sessions/alice-1/context', { ...body, neighbours: 1 })]);
    expect(plain.body.text).not.toContain('Noted: aisle seats');
    expect(beside.body.text).toContain('Noted: aisle seats from now on.');
    expect(beside.body.tokens as number).toBeGreaterThan(plain.body.tokens as number);
    const budget = (plain.body.tokens as number) + 100;
    const tight = await call('POST', '/v1/sessions/alice-1/context', { ...body, neighbours: 1, maxTokens: budget });
    expect(tight.body.tokens as number).toBeLessThanOrEqual(budget);
  });

  it('searches all time when no window is named, and says which window it applied', async () => {
    const res = await call('GET', '/v1/sessions/alice-1/memories?q=aisle%20seats');
    expect(res.body.window).toEqual({ since: null, until: null });
    expect(res.body.memories!.map((m) => m.turnId)).toContain('D1:3'); // stored as of 2020, years before "now"
    const windowed = await call('GET', '/v1/sessions/alice-1/memories?q=aisle%20seats&windowHours=24');
    expect(windowed.body.memories).toEqual([]);
    expect(Date.parse((windowed.body.window as { since: string }).since)).toBeGreaterThan(Date.now() - DAY - 60_000);
  });

  it('filters by sessions, time (ISO 8601 or epoch ms), roles and tags, and drops hits below minScore', async () => {
    const q = 'which seats do I prefer on flights';
    const sessions = (hits: Hit[]) => [...new Set(hits.map((h) => h.sessionId))].sort();
    expect(sessions(await search({ query: q, sessionIds: ['bob-1', 'nobody'] }))).toEqual(['bob-1', 'nobody']);
    expect(sessions(await search({ query: q, since: '2020-03-01T12:00:00Z', until: OLD + 2 * DAY }))).toEqual(['bob-1', 'nobody']);
    expect((await search({ query: q, roles: ['assistant'] })).map((h) => h.turnId)).toEqual(['msg:123']);
    expect(sessions(await search({ query: q, tags: ['preference'] }))).toEqual(['alice-1', 'bob-1']);
    expect((await search({ query: q, tags: ['travel'], userId: 'alice', roles: ['user'] })).map((h) => h.turnId).sort()).toEqual(['D1:3', 'a.b']);

    const all = await search({ query: q, k: 100 });
    const threshold = (all[0].score + all[all.length - 1].score) / 2;
    const above = await search({ query: q, k: 100, minScore: threshold });
    expect(above.length).toBeGreaterThan(0);
    expect(above.length).toBeLessThan(all.length);
    expect(above.every((h) => h.score >= threshold)).toBe(true);

    const get = await call('GET', `/v1/sessions/alice-1/memories?q=${encodeURIComponent(q)}&role=assistant&since=${OLD}&until=2020-03-02&mode=vector`);
    expect(get.body.memories!.map((h) => h.turnId)).toEqual(['msg:123']);
    expect((await call('GET', `/v1/sessions/alice-1/memories?q=seats&tag=preference&minScore=-1`)).body.memories!.map((h) => h.turnId)).toEqual(['D1:3']);
  });

  it('refuses bad times and filters with one clear 400 each', async () => {
    const bad: [string, string, unknown?][] = [
      ['GET', '/v1/sessions/alice-1/memories?q=x&since=yesterday'],
      ['GET', '/v1/sessions/alice-1/memories?q=x&since=2020-01-01&windowHours=5'],
      ['POST', '/v1/memories/search', { query: 'x', since: '2021-01-01', until: '2020-01-01' }],
      ['POST', '/v1/memories/search', { query: 'x', roles: ['robot'] }],
      ['POST', '/v1/memories/search', { query: 'x', tags: ['a b'] }],
      ['POST', '/v1/memories/search', { query: 'x', userId: 'a:b' }],
      ['POST', '/v1/memories/search', { query: 'x', mode: 'telepathy' }],
      ['POST', '/v1/sessions/alice-1/turns', { role: 'user', content: 'x', timestamp: '2020-13-01T00:00:00Z' }],
    ];
    for (const [method, path, body] of bad) {
      const res = await call(method, path, body);
      expect([path, res.status]).toEqual([path, 400]);
      expect(String(res.body.message)).toMatch(/since|until|windowHours|roles|tag|userId|mode|timestamp/);
    }
  });

  it('stores ISO 8601 timestamps (UTC unless an offset is given) as well as epoch ms', async () => {
    await write('times', {
      turns: [
        { role: 'user', content: 'a', timestamp: '2021-06-01T08:00:00Z' },
        { role: 'user', content: 'b', timestamp: '2021-06-01T08:00:00' },
        { role: 'user', content: 'c', timestamp: '2021-06-01T10:00:00+02:00' },
        { role: 'user', content: 'd', timestamp: '2021-06-01' },
        { role: 'user', content: 'e', timestamp: Date.UTC(2021, 5, 1, 8) },
      ],
    });
    const history = await call('GET', '/v1/sessions/times/turns');
    const at = '2021-06-01T08:00:00.000Z';
    expect((history.body.turns as { timestamp: string }[]).map((t) => t.timestamp)).toEqual([at, at, at, '2021-06-01T00:00:00.000Z', at]);
  });

  it("lists a session's turns in the shape of search hits: ISO 8601 timestamps and userId", async () => {
    const history = await call('GET', '/v1/sessions/alice-1/turns');
    const [first] = history.body.turns as Record<string, unknown>[];
    expect(first).toMatchObject({ turnId: 'D1:3', timestamp: '2020-03-01T10:00:00.000Z', userId: 'alice' });
    expect(first).not.toHaveProperty('user');
    expect((await call('GET', '/v1/sessions/nobody/turns')).body.turns).toEqual([expect.objectContaining({ userId: null })]);
  });

  it('answers every error as {statusCode, error, code, message}, with one message per invalid field', async () => {
    const raw = async (path: string, headers: Record<string, string>, body?: string) => {
      const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, ...headers }, body });
      return { status: res.status, body: (await res.json()) as Body };
    };
    const turn = JSON.stringify({ role: 'user', content: 'hello' });
    const cases: [Promise<{ status: number; body: Body }>, number, string, string | RegExp | string[]][] = [
      [raw('/v1/sessions/errs/turns', { 'content-type': 'application/x-www-form-urlencoded' }, 'role=user'), 415, 'unsupported_media_type', /Content-Type: application\/json/],
      // A JSON body labelled text/plain: told about the content type, not about its fields.
      [raw('/v1/sessions/errs/turns', { 'content-type': 'text/plain' }, turn), 415, 'unsupported_media_type', /Content-Type: application\/json/],
      [raw('/v1/sessions/errs/turns', { 'content-type': 'application/json' }, '{"role": "user",'), 400, 'invalid_json', /JSON/],
      [raw('/v1/sessions/errs/turns', { 'content-type': 'application/json' }), 400, 'empty_body', /empty/],
      [raw('/v1/sessions/errs/turns', { 'content-type': 'application/json' }, JSON.stringify({ role: 'user' })), 400, 'invalid_input', ['content is required']],
      [raw('/v1/sessions/errs/chat', { 'content-type': 'application/json' }, '{}'), 400, 'invalid_input', ['message must be a string']],
      [raw('/v1/sessions/alice-1/turns', { 'content-type': 'application/json' }, JSON.stringify({ userId: 'bob', ...JSON.parse(turn) })), 409, 'session_user_conflict', /alice/],
      [raw('/v1/sessions/errs/turns', { authorization: 'Bearer nope', 'content-type': 'application/json' }, turn), 401, 'unauthorized', 'unknown API key'],
      [call('DELETE', '/v1/sessions/errs/turns/no-such-turn'), 404, 'not_found', /no-such-turn/],
    ];
    for (const [answer, status, code, message] of cases) {
      const { status: got, body } = await answer;
      expect([got, body.code]).toEqual([status, code]);
      expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
      expect(body.statusCode).toBe(status);
      expect(typeof body.error).toBe('string');
      if (Array.isArray(message)) expect(body.message).toEqual(message);
      else expect(body.message).toMatch(message);
    }
  });

  it('builds a context: a system message with the relevant memories, then the recent turns, within maxTokens', async () => {
    await write('alice-7', { turns: [{ role: 'assistant', content: 'Which dates in May?', timestamp: OLD + 30 * DAY + 1000 }] });
    const res = await call('POST', '/v1/sessions/alice-7/context', { query: 'which seats do I prefer on flights', scope: 'user', maxTokens: 400, recentTurns: 2 });
    expect(res.status).toBe(200);
    const { messages, text, tokens, memories, dropped } = res.body as unknown as { messages: { role: string; content: string }[]; text: string; tokens: number; memories: Hit[]; dropped: number };
    expect(messages[0].role).toBe('system');
    expect(messages[0].content).toContain('I always prefer aisle seats on flights.'); // from alice-1: scope "user"
    expect(messages[0].content).not.toContain('window seats'); // bob's
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'Book me a flight to Lisbon in May.' },
      { role: 'assistant', content: 'Which dates in May?' },
    ]);
    expect(text).toContain('## Relevant memories');
    expect(tokens).toBe(countTokens(text));
    expect(messages.reduce((n, m) => n + countTokens(m.content), 0)).toBeLessThanOrEqual(400);
    expect(memories.every((m) => m.userId === 'alice')).toBe(true);
    expect(dropped).toBe(0);

    const session = await call('POST', '/v1/sessions/alice-7/context', { query: 'which seats do I prefer on flights' });
    expect((session.body.memories as Hit[]).every((m) => m.sessionId === 'alice-7')).toBe(true);
    const tight = await call('POST', '/v1/sessions/alice-7/context', { query: 'which seats do I prefer on flights', scope: 'user', maxTokens: 90 });
    expect(tight.body.dropped).toBeGreaterThan(0);
    const unowned = await call('POST', '/v1/sessions/nobody/context', { query: 'seats', scope: 'user' });
    expect([unowned.status, unowned.body.message]).toEqual([400, expect.stringMatching(/belongs to no user/)]);
  });

  it('has /chat send its LLM the context endpoint\'s messages, then the new message', async () => {
    const question = 'Do you remember my seat preference?';
    const context = await call('POST', '/v1/sessions/alice-1/context', { query: question });
    llm.reset();
    const chat = await call('POST', '/v1/sessions/alice-1/chat', { message: question });
    expect([chat.status, chat.body.reply]).toEqual([200, 'Noted.']);
    // The extractor calls the same route (with a response_format) for the turns written before and by this chat,
    // whenever it gets to them: the chat's request is the one without.
    const chats = llm.requests.filter((r) => r.path === '/v1/chat/completions' && !(r.body as { response_format?: unknown }).response_format);
    expect(chats).toHaveLength(1);
    const sent = chats[0].body as { messages: unknown[] };
    expect(sent.messages).toEqual([...(context.body.messages as unknown[]), { role: 'user', content: question }]);
    expect(chat.body.contextTokens).toBe(context.body.tokens);
    expect(chat.body.memories).toEqual(context.body.memories);
  });

  it('lists sessions, of the tenant or of one user, a page at a time, with turn counts and first and last activity', async () => {
    const page1 = await call('GET', '/v1/sessions?userId=alice&limit=1');
    expect(page1.body).toEqual({
      sessions: [{ sessionId: 'alice-1', userId: 'alice', turns: expect.any(Number), createdAt: expect.any(String), firstActivity: '2020-03-01T10:00:00.000Z', lastActivity: expect.stringMatching(/^20/) }],
      nextCursor: 'alice-1',
    });
    const page2 = await call('GET', '/v1/sessions?userId=alice&limit=1&cursor=alice-1');
    expect((page2.body.sessions as { sessionId: string }[]).map((s) => s.sessionId)).toEqual(['alice-7']);
    const page3 = await call('GET', `/v1/sessions?userId=alice&limit=1&cursor=${page2.body.nextCursor}`);
    expect(page3.body).toEqual({ sessions: [], nextCursor: null });

    const all: string[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const res = await call('GET', `/v1/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...(res.body.sessions as { sessionId: string }[]).map((s) => s.sessionId));
      cursor = res.body.nextCursor as string | null;
    }
    expect(all).toEqual(expect.arrayContaining(['alice-1', 'alice-7', 'bob-1', 'nobody', 'times']));
    expect(all).toEqual([...all].sort());
    const nobody = (await call('GET', '/v1/sessions?limit=500')).body.sessions as { sessionId: string; userId: string | null; turns: number }[];
    expect(nobody.find((s) => s.sessionId === 'nobody')).toMatchObject({ userId: null, turns: 1 });
  });

  it('forgets one turn by its client id, in the store and in the index; an unknown id is a 404', async () => {
    const ids = ['x/y?z#1', 'msg:9', 'with space & ümlaut %41', `${'😀'.repeat(64)}${'ü'.repeat(64)}`];
    await write('ids', { turns: ids.map((id, i) => ({ id, role: 'user', content: `the locker code is ${4410 + i}` })) });
    for (const id of ids) {
      const res = await call('DELETE', `/v1/sessions/ids/turns/${encodeURIComponent(id)}`);
      expect([id, res.status, res.body]).toEqual([id, 200, { turnId: id, seq: ids.indexOf(id) + 1, state: 'stored' }]);
    }
    expect((await call('GET', '/v1/sessions/ids/turns')).body.total).toBe(0);
    expect((await call('GET', '/v1/sessions/ids/memories?q=locker%20code')).body.memories).toEqual([]);
    expect((await call('DELETE', '/v1/sessions/ids/turns/msg%3A9')).status).toBe(404);
  });

  it('forgets a turn that is still queued: it never comes back', async () => {
    const turns = Array.from({ length: 400 }, (_, i) => ({ id: `q-${i}`, role: 'user', content: `queued note ${i}` }));
    expect((await call('POST', '/v1/sessions/queued/turns', { turns })).status).toBe(202);
    const res = await call('DELETE', '/v1/sessions/queued/turns/q-399');
    expect(res.status).toBe(200);
    expect(['stored', 'queued']).toContain(res.body.state);
    await drained();
    const history = await call('GET', '/v1/sessions/queued/turns?limit=500');
    expect(history.body.total).toBe(399);
    expect((history.body.turns as { turnId: string }[]).map((t) => t.turnId)).not.toContain('q-399');
  });

  it("forgets a user: every one of the user's sessions, turns still queued included, and nobody else's", async () => {
    await write('dora-1', { userId: 'dora', role: 'user', content: 'my passport number is P-771' });
    const queued = Array.from({ length: 400 }, (_, i) => ({ role: 'user', content: `dora's queued secret ${i}` }));
    expect((await call('POST', '/v1/sessions/dora-2/turns', { userId: 'dora', turns: queued })).status).toBe(202);
    const res = await call('DELETE', '/v1/users/dora');
    expect(res.status).toBe(200);
    expect(res.body.sessions).toBe(2);
    await drained();
    expect(await search({ query: "passport dora's queued secret", userId: 'dora', k: 100 })).toEqual([]);
    for (const s of ['dora-1', 'dora-2']) expect((await call('GET', `/v1/sessions/${s}/turns`)).body.total).toBe(0);
    expect((await call('GET', '/v1/sessions?userId=dora')).body).toEqual({ sessions: [], nextCursor: null });
    expect((await call('DELETE', '/v1/users/dora')).status).toBe(404);
    expect((await search({ query: 'seats', userId: 'alice' })).length).toBeGreaterThan(0);
  });

  it("ranks first the turns of the speaker a question names (a transcript's `Name:` label, read at write time)", async () => {
    await write('painting-club', {
      turns: [
        { role: 'user', content: 'Caroline: Melanie, what did you and the kids paint last weekend?', timestamp: OLD },
        { role: 'user', content: 'Melanie: A sunset over the lake, it took us all afternoon.', timestamp: OLD + 1000 },
      ],
    });
    const res = await call('GET', `/v1/sessions/painting-club/memories?q=${encodeURIComponent('What did Melanie paint?')}&k=2`);
    // Caroline's question holds more of the query's words; Melanie's answer is what was asked for.
    expect(res.body.memories!.map((h) => h.content.split(':')[0])).toEqual(['Melanie', 'Caroline']);
    // The label is the index's: the session's history shows the turns as written.
    for (const turn of (await call('GET', '/v1/sessions/painting-club/turns')).body.turns as Record<string, unknown>[]) expect(turn).not.toHaveProperty('speaker');
  });
});

describe('agent API e2e: recency (RECENCY_WEIGHT 0.5)', () => {
  const redis = new RedisServer();
  let stack: StackHandle;
  const post = async (path: string, body: unknown) =>
    (await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Body>;

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', AUTH_MODE: 'none', RECENCY_WEIGHT: '0.5', RERANK_NEIGHBOUR_WEIGHT: '0', RERANK_DATE_WEIGHT: '0' }), redisUrl: redis.url, log: () => undefined });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it("measures recency from the scope's first turn to its newest, not to the server's clock, for an old conversation", async () => {
    // The same words three times, days apart, years ago: only recency tells them apart.
    const turns = [0, 5, 10].map((day) => ({ id: `day-${day}`, role: 'user', content: 'the gate code is 4410', timestamp: OLD + day * DAY }));
    await post('/v1/sessions/old-talk/turns?wait=true', { userId: 'olga', turns });
    for (const search of [
      () => post('/v1/memories/search', { query: 'gate code', userId: 'olga' }),
      () => fetch(`${stack.apiUrl}/v1/sessions/old-talk/memories?q=gate%20code`).then((r) => r.json() as Promise<Body>),
    ]) {
      const hits = (await search()).memories!;
      expect(hits.map((h) => h.turnId)).toEqual(['day-10', 'day-5', 'day-0']);
      // Each hit's own similarity: the later two also match through their previous turn's words (contextual indexing).
      expect(hits.map((h) => h.score - 0.5 * h.similarity)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(0.25, 6), expect.closeTo(0, 6)]);
    }
    // A window narrows the span: since day 5, the day-5 turn is its start.
    const windowed = (await post('/v1/memories/search', { query: 'gate code', since: OLD + 5 * DAY })).memories!;
    expect(windowed.map((h) => [h.turnId, h.score - 0.5 * h.similarity])).toEqual([['day-10', expect.closeTo(0.5, 6)], ['day-5', expect.closeTo(0, 6)]]);
  });
});
