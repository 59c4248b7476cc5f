import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { loadConfig } from '@app/memory/config/load-config';
import { MEMORY_PREAMBLE } from '@app/memory/context/context-messages';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';

type Sent = { messages: { role: string; content: string }[] } & Record<string, unknown>;

/**
 * The OpenAI-compatible proxy over real HTTP on a private stack, with the real `openai` SDK as the client (its base URL
 * at the API) and the OpenAI wire-format server as the upstream LLM.
 */
describe('OpenAI-compatible memory proxy e2e', () => {
  const redis = new RedisServer();
  const llm = new OpenAiWireServer({ dim: 8 });
  const keyA = 'sk-proxy-acme-0123456789';
  const keyB = 'sk-proxy-globex-0123456789';
  let stack: StackHandle;
  let acme: OpenAI;
  let globex: OpenAI;

  const ask = (content: string, extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}) =>
    ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }) as ChatCompletionCreateParamsNonStreaming;
  /** The last chat request the upstream received. */
  const sent = () => llm.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body as Sent;
  const memoryMessage = (body: Sent) => body.messages.find((m) => m.role === 'system' && m.content.startsWith(MEMORY_PREAMBLE))?.content;
  const turns = async (key: string, session: string) => {
    const res = await fetch(`${stack.apiUrl}/v1/sessions/${session}/turns`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { turns: { role: string; content: string; turnId: string }[] }).turns.map((t) => [t.role, t.content]);
  };
  const session = (id: string) => ({ headers: { 'X-Session-Id': id } });

  beforeAll(async () => {
    await Promise.all([redis.start(), llm.start()]);
    stack = await startStack({
      config: loadConfig({
        LOG_LEVEL: 'warn',
        API_KEYS: `acme:${keyA},globex:${keyB}`,
        LLM_PROVIDER: 'openai-compatible',
        OPENAI_BASE_URL: llm.baseURL,
        PROVIDER_MAX_RETRIES: '0',
      }),
      redisUrl: redis.url,
      extractors: 0,
      log: () => undefined,
    });
    acme = new OpenAI({ apiKey: keyA, baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
    globex = new OpenAI({ apiKey: keyB, baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([redis.stop(), llm.stop()]);
  });

  beforeEach(() => llm.reset());

  it('answers, stores the new message and the reply, and puts the memory in on the next request', async () => {
    const first = await acme.chat.completions.create(
      ask('My locker code is 4417.', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'My locker code is 4417.' }] }),
      session('gym'),
    );
    expect(first.choices[0].message.content).toBe('You said: My locker code is 4417.');
    expect(sent().messages.map((m) => m.role)).toEqual(['system', 'system', 'user']); // the caller's system message stays first
    expect(sent().messages[0].content).toBe('Be brief.');
    expect(memoryMessage(sent())).not.toContain('4417'); // not retrieved as a memory of itself
    expect(await turns(keyA, 'gym')).toEqual([
      ['user', 'My locker code is 4417.'],
      ['assistant', 'You said: My locker code is 4417.'],
    ]);

    const second = await acme.chat.completions.create(ask('What is my locker code?'), session('gym'));
    expect(second.choices[0].message.content).toBe('You said: What is my locker code?');
    expect(memoryMessage(sent())).toContain('My locker code is 4417.');
    expect(sent().messages.at(-1)).toEqual({ role: 'user', content: 'What is my locker code?' });
  });

  it('streams the answer as OpenAI chunks, with the memory put in and the reply stored', async () => {
    await acme.chat.completions.create(ask('My bike is a green Cannondale.'), session('bike'));
    const stream = await acme.chat.completions.create({ ...ask('Which bike do I ride?'), stream: true }, session('bike'));
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('You said: Which bike do I ride?');
    expect(sent().stream).toBe(true);
    expect(memoryMessage(sent())).toContain('green Cannondale');
    expect((await turns(keyA, 'bike')).slice(2)).toEqual([
      ['user', 'Which bike do I ride?'],
      ['assistant', 'You said: Which bike do I ride?'],
    ]);
  });

  it('stores a retried request once: the SDK retrying after an upstream failure, and a request sent again', async () => {
    const retrying = new OpenAI({ apiKey: keyA, baseURL: `${stack.apiUrl}/v1`, maxRetries: 1 });
    llm.failNext(1, { kind: 'server_error' });
    const answer = await retrying.chat.completions.create(ask('I parked on level 3.'), session('parking'));
    expect(answer.choices[0].message.content).toBe('You said: I parked on level 3.');
    expect(llm.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(2);
    await acme.chat.completions.create(ask('I parked on level 3.'), session('parking'));
    // Sent again under an Idempotency-Key: stored once under that key.
    const keyed = { headers: { 'X-Session-Id': 'parking', 'Idempotency-Key': 'req-42' } };
    await acme.chat.completions.create(ask('And my car is blue.'), keyed);
    await acme.chat.completions.create(ask('And my car is blue.'), keyed);
    expect(await turns(keyA, 'parking')).toEqual([
      ['user', 'I parked on level 3.'],
      ['assistant', 'You said: I parked on level 3.'],
      ['user', 'And my car is blue.'],
      ['assistant', 'You said: And my car is blue.'],
    ]);
  });

  it('maps upstream 429 and 500 to OpenAI-shaped errors the SDK reads, with Retry-After', async () => {
    llm.failNext(1, { kind: 'rate_limit', retryAfterMs: 2000 });
    const limited = await acme.chat.completions.create(ask('Hello?'), session('errors')).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('2');
    expect((limited as RateLimitError).message).toMatch(/429.*Rate limit reached/);
    expect((limited as RateLimitError).type).toBe('requests');

    llm.failNext(1, { kind: 'server_error' });
    const failed = await acme.chat.completions.create({ ...ask('Hello?'), stream: true }, session('errors')).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InternalServerError);
    expect((failed as APIError).status).toBe(502);
    expect((failed as APIError).message).toMatch(/upstream LLM failed \(server 500\)/);
    // The reply of a failed call is not stored; the user message is, once.
    expect(await turns(keyA, 'errors')).toEqual([['user', 'Hello?']]);
  });

  it('passes tools and response_format through unchanged', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', description: 'Look a thing up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }];
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } } };
    await acme.chat.completions.create(ask('Look up the weather.', { tools, tool_choice: 'auto', response_format, temperature: 0.2 }), session('tools'));
    expect(sent()).toMatchObject({ model: 'gpt-4o-mini', tools, tool_choice: 'auto', response_format, temperature: 0.2 });
  });

  it("keeps tenants apart: the same session id of another tenant neither sees nor holds the first one's turns", async () => {
    await globex.chat.completions.create(ask('What is my locker code?'), session('gym'));
    expect(memoryMessage(sent())).not.toContain('4417');
    expect(await turns(keyB, 'gym')).toEqual([
      ['user', 'What is my locker code?'],
      ['assistant', 'You said: What is my locker code?'],
    ]);
    expect(await turns(keyA, 'gym')).toHaveLength(4);
  });

  it('takes the session from user when no header names it, refuses a request naming none, and lists the model', async () => {
    await acme.chat.completions.create(ask('I like tea.', { user: 'carol' }));
    expect(await turns(keyA, 'carol')).toEqual([
      ['user', 'I like tea.'],
      ['assistant', 'You said: I like tea.'],
    ]);
    const unnamed = await acme.chat.completions.create(ask('Hi')).catch((e: unknown) => e);
    expect(unnamed).toBeInstanceOf(BadRequestError);
    expect((unnamed as APIError).message).toMatch(/X-Session-Id/);
    const stranger = new OpenAI({ apiKey: 'sk-unknown-0123456789abc', baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
    expect(await stranger.chat.completions.create(ask('Hi'), session('x')).catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
    expect((await acme.models.list()).data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
  });
});
