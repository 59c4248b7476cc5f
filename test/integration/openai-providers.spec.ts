import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { DimensionMismatchError } from '@app/memory/errors/dimension-mismatch.error';
import { ProviderError } from '@app/memory/errors/provider.error';
import { createLlmProvider, createStructuredLlm } from '@app/memory/llm/create-llm-provider';
import type { LlmRequest } from '@app/memory/llm/llm-provider';
import { ContextAssembler } from '@app/memory/context/context-assembler';
import { buildMemoryContext } from '@app/memory/context/context-messages';
import type { MemoryContext } from '@app/memory/context/memory-context';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { OpenAiWireServer } from '../support/openai-wire-server';

const DIM = 16;

/** Rejects with the error the promise throws, or fails the test if it resolves. */
async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const outcome = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a rejection');
  return outcome as ProviderError;
}

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

/**
 * Embeds one text in a plain Node process and reports how it failed. Jest runs tests in a vm realm where the
 * AbortError of Node's fetch is not `instanceof Error`, so inside jest the SDK reports its own timeout as a
 * connection error; a real process behaves as the services do. The library is transpiled on the fly by typescript.
 */
function embedInNode(env: Record<string, string>): Promise<unknown> {
  const script = `
    const ts = require('typescript');
    const { readFileSync } = require('node:fs');
    const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true,
      emitDecoratorMetadata: true, esModuleInterop: true };
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions }).outputText, file);
    const { loadConfig } = require('./libs/memory/src/config/load-config');
    const { createEmbeddingProvider } = require('./libs/memory/src/embedding/create-embedding-provider');
    createEmbeddingProvider(loadConfig(process.env)).embed(['x']).then(
      () => console.log(JSON.stringify({ name: 'resolved' })),
      (e) => console.log(JSON.stringify({ name: e.name, kind: e.kind, retryable: e.retryable })),
    );`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { cwd: join(__dirname, '../..'), env: { ...env, PATH: process.env.PATH } }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('openai SDK providers against a local OpenAI wire-format server', () => {
  // A structured request (response_format) gets the JSON text scripted for it; a chat, the plain reply.
  let structuredReply = '{"facts": []}';
  const server = new OpenAiWireServer({
    dim: DIM,
    apiKey: 'sk-test',
    reply: (_messages, request) => (request.response_format ? structuredReply : 'Training GPT-3 emitted 552 tCO2e, per your notes.'),
  });
  const expected = new LocalEmbedder(DIM);

  // Short timeouts and few retries keep the suite to a few seconds; the wire server asks for 10 ms retry-after.
  const openai = (extra: Record<string, string> = {}) =>
    loadConfig({
      EMBEDDING_PROVIDER: 'openai',
      LLM_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: server.baseURL,
      EMBEDDING_DIM: String(DIM),
      PROVIDER_MAX_RETRIES: '2',
      PROVIDER_TIMEOUT_MS: '2000',
      ...extra,
    });
  const azure = () =>
    loadConfig({
      EMBEDDING_PROVIDER: 'azure',
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_API_KEY: 'sk-test',
      AZURE_OPENAI_ENDPOINT: server.origin,
      AZURE_OPENAI_API_VERSION: '2024-10-21',
      AZURE_OPENAI_EMBEDDING_DEPLOYMENT: 'embed-dep',
      AZURE_OPENAI_CHAT_DEPLOYMENT: 'chat-dep',
      EMBEDDING_DIM: String(DIM),
      PROVIDER_MAX_RETRIES: '1',
    });
  const fact = 'Training GPT-3 emitted an estimated 552 tCO2e.';
  let memoryContext: MemoryContext;
  let chatRequest: LlmRequest;
  beforeAll(async () => {
    memoryContext = await buildMemoryContext(new ContextAssembler(), {
      memories: [{ key: 'k1', session: 's', seq: 1, turnId: 'a', role: 'assistant', content: fact, timestamp: 1_700_000_000_000, similarity: 0.8, score: 0.8 }],
      recent: [{ key: 'k2', tenant: 't', session: 's', seq: 2, turnId: 'b', role: 'user', content: 'Thanks, noted.', timestamp: 1_700_000_001_000, tokenCount: 3 }],
      maxTokens: 1000,
    });
    chatRequest = {
      question: 'How much CO2 did training GPT-3 emit?',
      messages: memoryContext.messages,
      context: memoryContext.text,
      memories: [{ role: 'assistant', content: fact, similarity: 0.8 }],
    };
  });

  beforeAll(() => server.start());
  afterAll(() => server.stop());
  afterEach(() => server.reset());

  describe('embeddings', () => {
    it('openai: embeds a batch in one call, with bearer auth, float encoding and vectors in input order', async () => {
      const texts = Array.from({ length: 50 }, (_, i) => `turn number ${i} about topic ${i % 7}`);
      const provider = createEmbeddingProvider(openai());
      expect(provider).toMatchObject({ name: 'openai', dim: DIM, label: 'openai embeddings (text-embedding-3-small)' });
      const vectors = await provider.embed(texts);
      expect(vectors.map((v) => Array.from(v))).toEqual(texts.map((t) => Array.from(expected.embedOne(t))));
      expect(server.requests).toHaveLength(1);
      const [req] = server.requests;
      expect(req.path).toBe('/v1/embeddings');
      expect(req.headers.authorization).toBe('Bearer sk-test');
      expect(req.body).toMatchObject({ model: 'text-embedding-3-small', input: texts, encoding_format: 'float' });
    });

    it('splits more than 2048 inputs into calls of at most 2048', async () => {
      const texts = Array.from({ length: 2049 }, (_, i) => `t${i}`);
      const vectors = await createEmbeddingProvider(openai()).embed(texts);
      expect(vectors).toHaveLength(2049);
      expect(Array.from(vectors[2048])).toEqual(Array.from(expected.embedOne('t2048')));
      expect(server.requests.map((r) => (r.body as { input: string[] }).input.length)).toEqual([2048, 1]);
    });

    it('azure: uses the deployment route, the api-key header and the api-version', async () => {
      const provider = createEmbeddingProvider(azure());
      const [v] = await provider.embed(['hello azure']);
      expect(Array.from(v)).toEqual(Array.from(expected.embedOne('hello azure')));
      const [req] = server.requests;
      expect(req.path).toBe('/openai/deployments/embed-dep/embeddings');
      expect(req.query['api-version']).toBe('2024-10-21');
      expect(req.headers['api-key']).toBe('sk-test');
      expect(req.headers.authorization).toBeUndefined();
    });

    it('openai-compatible: goes to OPENAI_BASE_URL, with no API key configured', async () => {
      const keyless = new OpenAiWireServer({ dim: DIM });
      await keyless.start();
      try {
        const config = loadConfig({ EMBEDDING_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: keyless.baseURL, EMBEDDING_MODEL: 'nomic-embed-text', EMBEDDING_DIM: String(DIM) });
        const provider = createEmbeddingProvider(config);
        expect(provider.name).toBe('openai-compatible');
        const [v] = await provider.embed(['ollama style']);
        expect(Array.from(v)).toEqual(Array.from(expected.embedOne('ollama style')));
        expect(keyless.requests.map((r) => [r.path, (r.body as { model: string }).model])).toEqual([['/v1/embeddings', 'nomic-embed-text']]);
      } finally {
        await keyless.stop();
      }
    });

    it('retries a 429 and succeeds: two requests reach the server', async () => {
      server.failNext(1, { kind: 'rate_limit' });
      const [v] = await createEmbeddingProvider(openai()).embed(['after the rate limit']);
      expect(Array.from(v)).toEqual(Array.from(expected.embedOne('after the rate limit')));
      expect(server.requests).toHaveLength(2);
    });

    it('a persistent 500 is a retryable ProviderError of kind server after maxRetries + 1 attempts', async () => {
      server.failNext(10, { kind: 'server_error' });
      const err = await failure(createEmbeddingProvider(openai()).embed(['x']));
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ kind: 'server', status: 500, retryable: true });
      expect(err.message).toMatch(/openai embeddings \(text-embedding-3-small\) failed \(server 500\)/);
      expect(server.requests).toHaveLength(3);
    });

    it('a response slower than the timeout is a ProviderError of kind timeout, after the SDK retried it', async () => {
      server.failNext(2, { kind: 'slow', delayMs: 1500 });
      const outcome = await embedInNode({
        EMBEDDING_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: server.baseURL,
        EMBEDDING_DIM: String(DIM),
        PROVIDER_TIMEOUT_MS: '150',
        PROVIDER_MAX_RETRIES: '1',
      });
      expect(outcome).toEqual({ name: 'ProviderError', kind: 'timeout', retryable: true });
      expect(server.requests).toHaveLength(2);
    });

    it('a vector of the wrong dimension is a DimensionMismatchError, not retried', async () => {
      server.failNext(1, { kind: 'wrong_dimension', dim: 8 });
      const err = await failure(createEmbeddingProvider(openai()).embed(['x', 'y']));
      expect(err).toBeInstanceOf(DimensionMismatchError);
      expect(err).toMatchObject({ expected: DIM, actual: 8 });
      expect(server.requests).toHaveLength(1);
    });

    it.each([
      ['literal', /not valid JSON/],
      ['null', /embedding 0 contains a non-finite value/],
    ] as const)('a NaN written as %s is a non-retryable bad_response', async (as, message) => {
      server.failNext(1, { kind: 'nan', as });
      const err = await failure(createEmbeddingProvider(openai()).embed(['x', 'y']));
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ kind: 'bad_response', retryable: false });
      expect(err.message).toMatch(message);
      expect(server.requests).toHaveLength(1);
    });

    it('a response without data is a bad_response', async () => {
      server.failNext(1, { kind: 'malformed' });
      const err = await failure(createEmbeddingProvider(openai()).embed(['x']));
      expect(err).toMatchObject({ name: 'ProviderError', kind: 'bad_response', retryable: false });
      expect(err.message).toMatch(/expected 1 embeddings, got none/);
    });

    it('a wrong key is a non-retryable auth error, sent once', async () => {
      const err = await failure(createEmbeddingProvider(openai({ OPENAI_API_KEY: 'sk-wrong' })).embed(['x']));
      expect(err).toMatchObject({ name: 'ProviderError', kind: 'auth', status: 401, retryable: false });
      expect(server.requests).toHaveLength(1);
    });

    it('a server that is not listening is a connection error', async () => {
      const gone = new OpenAiWireServer({ dim: DIM });
      await gone.start();
      const baseURL = gone.baseURL;
      await gone.stop();
      const err = await failure(createEmbeddingProvider(openai({ OPENAI_BASE_URL: baseURL, PROVIDER_MAX_RETRIES: '0' })).embed(['x']));
      expect(err).toMatchObject({ name: 'ProviderError', kind: 'connection', retryable: true });
    });
  });

  describe('chat', () => {
    it('openai: completes with a system prompt carrying the memory context', async () => {
      const llm = createLlmProvider(openai());
      expect(llm).toMatchObject({ name: 'openai', label: 'openai chat (gpt-4o-mini)' });
      expect(await llm.complete(chatRequest)).toBe('Training GPT-3 emitted 552 tCO2e, per your notes.');
      const [req] = server.requests;
      expect(req.path).toBe('/v1/chat/completions');
      const body = req.body as { model: string; stream?: boolean; messages: { role: string; content: string }[] };
      expect(body.model).toBe('gpt-4o-mini');
      expect(body.stream).toBeUndefined();
      // The context endpoint's messages, as they are, then the question.
      expect(body.messages).toEqual([...memoryContext.messages, { role: 'user', content: chatRequest.question }]);
      expect(body.messages.map((m) => m.role)).toEqual(['system', 'user', 'user']);
      expect(body.messages[0].content).toContain(fact);
    });

    it('openai: streams the reply in several chunks', async () => {
      const chunks = await collect(createLlmProvider(openai()).stream(chatRequest));
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.join('')).toBe('Training GPT-3 emitted 552 tCO2e, per your notes.');
      expect(server.requests[0].body).toMatchObject({ stream: true });
    });

    it('azure: completes and streams through the chat deployment route', async () => {
      const llm = createLlmProvider(azure());
      expect(await llm.complete(chatRequest)).toContain('552 tCO2e');
      expect((await collect(llm.stream(chatRequest))).join('')).toContain('552 tCO2e');
      expect(server.requests.map((r) => [r.path, r.query['api-version'], r.headers['api-key']])).toEqual([
        ['/openai/deployments/chat-dep/chat/completions', '2024-10-21', 'sk-test'],
        ['/openai/deployments/chat-dep/chat/completions', '2024-10-21', 'sk-test'],
      ]);
    });

    it('retries a 429 before a stream starts', async () => {
      server.failNext(1, { kind: 'rate_limit' });
      expect((await collect(createLlmProvider(openai()).stream(chatRequest))).join('')).toContain('552 tCO2e');
      expect(server.requests).toHaveLength(2);
    });

    it('a stream that goes silent for longer than the timeout is a ProviderError of kind timeout', async () => {
      server.failNext(1, { kind: 'stall' });
      const received: string[] = [];
      const consume = async () => {
        for await (const c of createLlmProvider(openai({ PROVIDER_TIMEOUT_MS: '200' })).stream(chatRequest)) received.push(c);
      };
      const err = await failure(consume());
      expect(err).toMatchObject({ name: 'ProviderError', kind: 'timeout', retryable: true });
      expect(err.message).toMatch(/stream stalled: nothing received for 200 ms/);
      expect(received).toEqual(['Training ']);
    });

    it('maps failures of complete and stream to ProviderError', async () => {
      server.failNext(3, { kind: 'server_error' });
      expect(await failure(createLlmProvider(openai()).complete(chatRequest))).toMatchObject({ kind: 'server', status: 500 });
      server.failNext(3, { kind: 'server_error' });
      expect(await failure(collect(createLlmProvider(openai()).stream(chatRequest)))).toMatchObject({ kind: 'server', status: 500 });
      server.failNext(1, { kind: 'malformed' });
      expect(await failure(createLlmProvider(openai()).complete(chatRequest))).toMatchObject({ kind: 'bad_response', retryable: false });
    });
  });

  describe('structured output (the extractor)', () => {
    const schema = { type: 'object', properties: { facts: { type: 'array', items: { type: 'string' } } }, required: ['facts'], additionalProperties: false };

    it('openai: asks for a strict JSON schema and answers the parsed JSON with the token usage', async () => {
      structuredReply = '{"facts": ["The user is vegetarian."]}';
      const reply = await createStructuredLlm(openai())!.ask('Extract facts.', '{"turns": []}', 'memory_facts', schema);
      expect(reply.value).toEqual({ facts: ['The user is vegetarian.'] });
      expect(reply.usage.prompt).toBeGreaterThan(0);
      expect(reply.usage.completion).toBeGreaterThan(0);
      const body = server.requests[0].body as Record<string, unknown>;
      expect(body).toMatchObject({
        model: 'gpt-4o-mini',
        temperature: 0,
        messages: [{ role: 'system', content: 'Extract facts.' }, { role: 'user', content: '{"turns": []}' }],
        response_format: { type: 'json_schema', json_schema: { name: 'memory_facts', strict: true, schema } },
      });
    });

    it('azure and openai-compatible: the chat deployment route, and OPENAI_BASE_URL without a key', async () => {
      structuredReply = '{"facts": []}';
      expect((await createStructuredLlm(azure())!.ask('x', 'y', 'memory_facts', schema)).value).toEqual({ facts: [] });
      const compatible = loadConfig({ LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' });
      expect((await createStructuredLlm(compatible)!.ask('x', 'y', 'memory_facts', schema)).value).toEqual({ facts: [] });
      expect(server.requests.map((r) => r.path)).toEqual(['/openai/deployments/chat-dep/chat/completions', '/v1/chat/completions']);
    });

    it('is undefined with the offline responder: nothing pretends to extract', () => {
      expect(createStructuredLlm(loadConfig({}))).toBeUndefined();
    });

    it('an answer that is not JSON is a permanent bad_response; 429 and 500 stay retryable', async () => {
      structuredReply = 'Sure! Here are the facts: the user is vegetarian.';
      const notJson = await failure(createStructuredLlm(openai())!.ask('x', 'y', 'memory_facts', schema));
      expect(notJson).toMatchObject({ name: 'ProviderError', kind: 'bad_response', retryable: false });
      // The reason says what was wrong, never what the model said (a failed job keeps it in Redis).
      expect(notJson.message).toMatch(/malformed answer: not JSON \(\d+ characters\)$/);
      server.failNext(1, { kind: 'malformed' });
      expect(await failure(createStructuredLlm(openai())!.ask('x', 'y', 'memory_facts', schema))).toMatchObject({ kind: 'bad_response', retryable: false });
      server.failNext(3, { kind: 'rate_limit' });
      expect(await failure(createStructuredLlm(openai())!.ask('x', 'y', 'memory_facts', schema))).toMatchObject({ kind: 'rate_limit', retryable: true });
      server.failNext(3, { kind: 'server_error' });
      expect(await failure(createStructuredLlm(openai())!.ask('x', 'y', 'memory_facts', schema))).toMatchObject({ kind: 'server', retryable: true });
    });
  });
});
