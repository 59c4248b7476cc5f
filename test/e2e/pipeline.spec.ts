import { loadConfig } from '@app/memory/config/load-config';
import { ApiClient } from '../../apps/cli/src/http/api-client';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { REDIS_TARGETS } from '../support/redis-targets';

/** The whole pipeline over real HTTP: the API plus two embedder and two retriever processes on a private Redis or cluster. */
describe.each(REDIS_TARGETS)('pipeline e2e (api + 2 embedders + 2 retrievers) on $name', ({ make }) => {
  const redis = make();
  const logs: string[] = [];
  let stack: StackHandle;
  let api: ApiClient;

  const apiKey = 'sk-e2e-tenant-0123456789';
  const auth = { authorization: `Bearer ${apiKey}` };
  const post = (path: string, body: unknown) =>
    fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  const completedJobs = async (metricsUrl: string, queue: string): Promise<number> => {
    const text = await (await fetch(metricsUrl)).text();
    const line = text.split('\n').find((l) => l.startsWith('agent_memory_jobs_total{') && l.includes(`queue="${queue}"`) && l.includes('outcome="completed"'));
    return Number(line?.split(' ').at(-1) ?? 0);
  };

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({
      config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `e2e:${apiKey}`, ...redis.env }),
      embedders: 2,
      retrievers: 2,
      log: (name, line) => logs.push(`[${name}] ${line}`),
    });
    api = new ApiClient({ url: stack.apiUrl, apiKey });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('answers a chat with memories from earlier turns of the same session only', async () => {
    await api.addTurns('support-1', [
      { role: 'user', content: 'I cannot log in: the portal shows error AUTH-403 after I enter my password' },
      { role: 'assistant', content: 'Let us reset your password from the account settings page.' },
      { role: 'user', content: 'My favourite colour is teal, by the way.' },
    ], true);
    await api.addTurns('other-session', [{ role: 'user', content: 'error AUTH-403 appears in the other session too' }], true);

    const res = await api.chat('support-1', 'Which error code did the portal show when I tried to log in?');
    expect(res.memories.length).toBeGreaterThan(0);
    expect(res.memories[0].content).toContain('AUTH-403');
    expect(res.memories.every((m) => !m.content.includes('other session'))).toBe(true);
    expect(res.memories.every((m) => m.content !== 'Which error code did the portal show when I tried to log in?')).toBe(true);
    expect(res.reply).toContain('AUTH-403');
    expect(res.contextTokens).toBeGreaterThan(0);
    for (const op of ['write', 'read', 'assemble', 'llm', 'e2e'] as const) expect(res.timings[op]).toBeGreaterThan(0);
  });

  it("stores the question but not the offline responder's non-answers, which never come back as memories", async () => {
    const first = await api.chat('non-answers', 'What did I say about the violin?');
    expect(first.reply).toBe('[offline extractive responder] I have nothing stored to answer from yet.');
    await api.addTurns('non-answers', [{ role: 'user', content: 'I bought a red bicycle on Saturday' }], true);
    const second = await api.chat('non-answers', 'Which telescope brand do astronomers prefer?');
    expect(second.reply).toBe('[offline extractive responder] None of the stored memories matches this question.');
    const streamed = await fetch(`${stack.apiUrl}/v1/sessions/non-answers/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...auth },
      body: JSON.stringify({ message: 'Which telescope brand do astronomers prefer?' }),
    });
    expect(await streamed.text()).toContain('None of the stored memories matches');
    const answered = await api.chat('non-answers', 'What colour is the bicycle I bought?');
    expect(answered.reply).toContain('red bicycle');

    const { turns } = await api.history('non-answers');
    expect(turns.map((t) => [t.role, t.content])).toEqual([
      ['user', 'What did I say about the violin?'],
      ['user', 'I bought a red bicycle on Saturday'],
      ['user', 'Which telescope brand do astronomers prefer?'],
      ['user', 'Which telescope brand do astronomers prefer?'],
      ['user', 'What colour is the bicycle I bought?'],
      ['assistant', answered.reply],
    ]);
    const memories = await api.memories('non-answers', 'None of the stored memories matches this question', 50);
    expect(memories.memories.every((m) => !m.content.startsWith('[offline extractive responder] None'))).toBe(true);
  });

  it('streams the reply over SSE: token events that add up to the reply in the final done event', async () => {
    await api.addTurns('sse-1', [{ role: 'user', content: 'My favourite hike is the Dipsea trail' }], true);
    const res = await fetch(`${stack.apiUrl}/v1/sessions/sse-1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...auth },
      body: JSON.stringify({ message: 'Which hike is my favourite?' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text())
      .trim()
      .split('\n\n')
      .map((block) => {
        const [event, data] = block.split('\n').map((line) => line.slice(line.indexOf(':') + 2));
        return { event, data: JSON.parse(data) as Record<string, unknown> };
      });
    const tokens = events.filter((e) => e.event === 'token').map((e) => e.data.text as string);
    const done = events.at(-1)!;
    expect(tokens.length).toBeGreaterThan(0);
    expect(done.event).toBe('done');
    expect(tokens.join('')).toBe(done.data.reply);
    expect(done.data.timings).toEqual(expect.objectContaining({ e2e: expect.any(Number), llm: expect.any(Number) }));
    expect(done.data.reply).toContain('Dipsea');
    expect((await api.history('sse-1')).turns.map((t) => t.content)).toEqual([
      'My favourite hike is the Dipsea trail', 'Which hike is my favourite?', done.data.reply,
    ]);
  });

  it('returns the history in order, question and reply included', async () => {
    const page = await api.history('support-1');
    expect(page.total).toBe(5);
    expect(page.turns.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(page.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'user', 'assistant']);
    expect(page.turns[3].content).toBe('Which error code did the portal show when I tried to log in?');
  });

  it('stores a turn sent twice with the same id once', async () => {
    const turn = { role: 'user' as const, content: 'idempotent hello', id: 'client-turn-1' };
    await api.addTurns('idem', [turn], true);
    await api.addTurns('idem', [turn], true);
    expect((await api.history('idem')).total).toBe(1);
  });

  it('forgets a deleted session in the store and in the index', async () => {
    await api.addTurns('forget-me', [{ role: 'user', content: 'my locker code is 4711' }], true);
    expect((await api.memories('forget-me', 'locker code')).memories).toHaveLength(1);
    expect((await api.forget('forget-me')).deleted).toBe(1);
    expect((await api.memories('forget-me', 'locker code')).memories).toEqual([]);
    expect((await api.history('forget-me')).total).toBe(0);
  });

  it('rejects bad requests with a 400 and a message', async () => {
    const cases: [string, unknown][] = [
      ['/v1/sessions/bad:id/turns', { role: 'user', content: 'x' }],
      ['/v1/sessions/s/turns', { role: 'robot', content: 'x' }],
      ['/v1/sessions/s/turns', { role: 'user', content: '' }],
      ['/v1/sessions/s/turns', { role: 'user', content: 'x', unknown: 1 }],
      ['/v1/sessions/s/turns', { turns: [] }],
      ['/v1/sessions/s/chat', { message: 'hi', k: 0 }],
      ['/v1/sessions/s/chat', {}],
    ];
    for (const [path, body] of cases) {
      const res = await post(path, body);
      const json = (await res.json()) as { message: unknown };
      expect([path, res.status]).toEqual([path, 400]);
      expect(JSON.stringify(json.message)).toMatch(/\w/);
    }
    const badQuery = await fetch(`${stack.apiUrl}/v1/sessions/s/memories?k=5`, { headers: auth });
    expect(badQuery.status).toBe(400);
  });

  it('spreads work over every replica and answers the same whichever replica serves', async () => {
    const turns = Array.from({ length: 300 }, (_, i) => ({ role: 'user' as const, content: `note ${i}: shipment ${i % 17} left warehouse ${i % 5}` }));
    await Promise.all([0, 1, 2].map((b) => api.addTurns('spread', turns.slice(b * 100, b * 100 + 100), true)));
    expect((await api.history('spread', 0, 1)).total).toBe(300);

    const answers = await Promise.all(Array.from({ length: 60 }, () => api.memories('spread', 'shipment 3 left warehouse 3', 5)));
    const first = JSON.stringify(answers[0].memories);
    expect(answers.every((a) => JSON.stringify(a.memories) === first)).toBe(true);

    for (const [name, url] of Object.entries(stack.workerMetrics)) {
      const queue = name.startsWith('embedder') ? 'embed' : 'retrieve';
      expect([name, (await completedJobs(url, queue)) > 0]).toEqual([name, true]);
    }
  });
});
