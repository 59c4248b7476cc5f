import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { countTokens } from '@app/memory/context/tokenizer';

/** What the next request gets instead of a normal answer. */
export type WireFault =
  /** 429 or 500 with retry-after-ms (and retry-after) headers, small so the SDK's retries stay fast. */
  | { kind: 'rate_limit' | 'server_error'; retryAfterMs?: number }
  /** The normal answer, but only after this long (longer than the client's timeout). */
  | { kind: 'slow'; delayMs: number }
  /** Embeddings of this length instead of the server's dimension. */
  | { kind: 'wrong_dimension'; dim: number }
  /** The first embedding value is NaN, written as Python's json does (`NaN`, invalid JSON) or as JSON.stringify does (`null`). */
  | { kind: 'nan'; as: 'literal' | 'null' }
  /** A 200 without `data` (embeddings), `choices` (chat) or its scores (rerank). */
  | { kind: 'malformed' }
  /** A chat stream sends its first words, then nothing while the connection stays open. */
  | { kind: 'stall' };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface WireServerOptions {
  /** Dimension of the (deterministic, LocalEmbedder) embeddings it returns. */
  dim: number;
  /** When set, /v1 routes require `Authorization: Bearer <apiKey>` and Azure routes `api-key: <apiKey>`. */
  apiKey?: string;
  /**
   * The assistant's reply to a chat request; the request is there for scripted structured replies (its
   * response_format), which answer with the JSON text a model would.
   */
  reply?: (messages: { role: string; content: string }[], request: Record<string, unknown>) => string;
  /** How long to hold a chat request before answering it (e.g. one kind of structured request only); default 0. */
  holdMs?: (request: Record<string, unknown>) => number;
}

const AZURE_ROUTE = /^\/openai\/deployments\/([^/]+)\/(embeddings|chat\/completions)$/;
const OPENAI_ROUTE = /^\/v1\/(embeddings|chat\/completions)$/;
/** text-embeddings-inference's `/rerank` and the Cohere/Jina-style `/v1/rerank`. */
const RERANK_ROUTE = /^\/(v1\/)?rerank$/;
/** TEI's default --max-client-batch-size. */
export const TEI_MAX_BATCH = 32;
const NAN_MARK = '__nan__';

const defaultReply = (messages: { role: string; content: string }[]) =>
  `You said: ${messages.filter((m) => m.role === 'user').at(-1)?.content ?? ''}`;

const wordsOf = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
/** The default reranker score: the share of the query's words that the text holds, in [0, 1]. */
const overlapScore = (query: string, text: string) => {
  const q = wordsOf(query);
  const t = wordsOf(text);
  return q.size === 0 ? 0 : [...q].filter((w) => t.has(w)).length / q.size;
};
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'string');

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI wire format (embeddings, chat completions with SSE streaming,
 * and the Azure deployment routes) and the two reranker formats (text-embeddings-inference's `POST /rerank`,
 * Cohere/Jina's `POST /v1/rerank`), with scriptable faults, recording every request it receives.
 */
export class OpenAiWireServer {
  readonly requests: RecordedRequest[] = [];
  /**
   * When set, an embeddings request with any input longer than this many tokens is refused whole with a 400, as
   * OpenAI's endpoint does ("maximum context length is 8192 tokens"); a smaller model behind a compatible server
   * has a smaller limit.
   */
  maxInputTokens?: number;
  /** The status of that refusal: some compatible servers answer 500 instead of 400. */
  tooLongStatus: 400 | 500 = 400;
  /** The reranker model: a text's relevance to a query (default: the share of the query's words it holds). */
  rerankScore: (query: string, text: string) => number = overlapScore;
  private readonly faults: WireFault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly embedder: LocalEmbedder;
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  constructor(private readonly options: WireServerOptions) {
    this.embedder = new LocalEmbedder(options.dim);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** OPENAI_BASE_URL for the openai and openai-compatible clients. */
  get baseURL(): string {
    return `${this.origin}/v1`;
  }

  /** The next `count` requests, whatever their route, get `fault`. */
  failNext(count: number, fault: WireFault): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.rerankScore = overlapScore;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return sendError(res, 400, 'invalid_request_error', 'Request body is not valid JSON');
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body });

    const azure = AZURE_ROUTE.exec(url.pathname);
    const rerank = RERANK_ROUTE.exec(url.pathname);
    const route = azure?.[2] ?? OPENAI_ROUTE.exec(url.pathname)?.[1] ?? (rerank ? (rerank[1] ? 'cohere-rerank' : 'tei-rerank') : undefined);
    if (req.method !== 'POST' || !route) return sendError(res, 404, 'invalid_request_error', `No route ${req.method} ${url.pathname}`);
    if (azure && !url.searchParams.get('api-version')) return sendError(res, 400, 'invalid_request_error', 'api-version query parameter is missing');
    if (!this.authorised(req.headers, Boolean(azure))) return sendError(res, 401, 'invalid_request_error', 'Incorrect API key provided');

    const fault = this.faults.shift();
    if (fault?.kind === 'rate_limit' || fault?.kind === 'server_error') {
      const ms = fault.retryAfterMs ?? 10;
      res.setHeader('retry-after-ms', String(ms));
      res.setHeader('retry-after', String(Math.ceil(ms / 1000)));
      return fault.kind === 'rate_limit'
        ? sendError(res, 429, 'requests', 'Rate limit reached, please retry')
        : sendError(res, 500, 'server_error', 'The server had an error while processing your request');
    }
    const request = (body ?? {}) as Record<string, unknown>;
    const hold = fault?.kind === 'slow' ? fault.delayMs : route === 'embeddings' ? 0 : (this.options.holdMs?.(request) ?? 0);
    if (hold > 0) await this.sleep(hold);
    if (res.destroyed || req.socket.destroyed) return; // the client gave up waiting
    if (route === 'embeddings') return this.embeddings(res, request, fault);
    if (route === 'tei-rerank') return this.teiRerank(res, request, fault);
    if (route === 'cohere-rerank') return this.cohereRerank(res, request, fault);
    return this.chat(res, request, fault);
  }

  private authorised(headers: IncomingHttpHeaders, azure: boolean): boolean {
    const key = this.options.apiKey;
    if (key === undefined) return true;
    return azure ? headers['api-key'] === key : headers.authorization === `Bearer ${key}`;
  }

  private embeddings(res: ServerResponse, request: Record<string, unknown>, fault: WireFault | undefined): void {
    const input = typeof request.input === 'string' ? [request.input] : request.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((t) => typeof t === 'string')) {
      return sendError(res, 400, 'invalid_request_error', "'input' must be a string or a non-empty array of strings");
    }
    const tooLong = this.maxInputTokens === undefined ? -1 : input.findIndex((t: string) => countTokens(t) > this.maxInputTokens!);
    if (tooLong >= 0) {
      const message = `This model's maximum context length is ${this.maxInputTokens} tokens, however you requested ${countTokens(input[tooLong])} tokens (input[${tooLong}])`;
      return sendError(res, this.tooLongStatus, 'invalid_request_error', message);
    }
    if (fault?.kind === 'malformed') return sendJson(res, 200, JSON.stringify({ object: 'list', model: request.model }));
    const dim = fault?.kind === 'wrong_dimension' ? fault.dim : this.options.dim;
    const embedder = dim === this.embedder.dim ? this.embedder : new LocalEmbedder(dim);
    const data = input.map((text: string, index) => {
      const embedding: unknown[] = Array.from(embedder.embedOne(text));
      if (fault?.kind === 'nan' && index === 0) embedding[0] = fault.as === 'literal' ? NAN_MARK : NaN;
      return { object: 'embedding', index, embedding };
    });
    const tokens = input.reduce((n: number, t: string) => n + t.split(/\s+/).length, 0);
    const json = JSON.stringify({ object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    sendJson(res, 200, json.replace(`"${NAN_MARK}"`, 'NaN'));
  }

  /** TEI: `{query, texts, truncate?, raw_scores?, return_text?}` → `[{index, score}]`, best first; over its batch limit, 413. */
  private teiRerank(res: ServerResponse, request: Record<string, unknown>, fault: WireFault | undefined): void {
    const { query, texts } = request;
    const refuse = (status: number, error: string) => sendJson(res, status, JSON.stringify({ error, error_type: status === 413 ? 'Validation' : 'Empty' }));
    if (typeof query !== 'string' || !isStrings(texts)) return refuse(400, '`query` must be a string and `texts` a non-empty array of strings');
    if (texts.length > TEI_MAX_BATCH) return refuse(413, `batch size ${texts.length} > maximum allowed batch size ${TEI_MAX_BATCH}`);
    if (fault?.kind === 'malformed') return sendJson(res, 200, JSON.stringify({ object: 'list' }));
    sendJson(res, 200, JSON.stringify(this.ranked(query, texts).map(({ index, score }) => ({ index, score }))));
  }

  /** Cohere/Jina: `{model, query, documents, top_n?, return_documents?}` → `{id, results: [{index, relevance_score}], meta}`, best first. */
  private cohereRerank(res: ServerResponse, request: Record<string, unknown>, fault: WireFault | undefined): void {
    const { model, query, documents, top_n: topN } = request;
    const refuse = (message: string) => sendJson(res, 400, JSON.stringify({ message }));
    if (typeof model !== 'string' || model === '') return refuse('model is required');
    if (typeof query !== 'string' || !isStrings(documents)) return refuse('query must be a string and documents a non-empty array of strings');
    if (topN !== undefined && !(Number.isInteger(topN) && (topN as number) > 0)) return refuse('top_n must be a positive integer');
    if (fault?.kind === 'malformed') return sendJson(res, 200, JSON.stringify({ id: 'rerank-wire', meta: {} }));
    const results = this.ranked(query, documents)
      .slice(0, (topN as number | undefined) ?? documents.length)
      .map(({ index, score }) => ({ index, relevance_score: score }));
    sendJson(res, 200, JSON.stringify({ id: 'rerank-wire', results, meta: { api_version: { version: '1' }, billed_units: { search_units: 1 } } }));
  }

  private ranked(query: string, texts: string[]): { index: number; score: number }[] {
    return texts.map((t, index) => ({ index, score: this.rerankScore(query, t) })).sort((a, b) => b.score - a.score);
  }

  private chat(res: ServerResponse, request: Record<string, unknown>, fault: WireFault | undefined): void {
    const messages = request.messages;
    if (!Array.isArray(messages) || messages.length === 0) return sendError(res, 400, 'invalid_request_error', "'messages' must be a non-empty array");
    const base = { id: 'chatcmpl-wire', created: Math.floor(Date.now() / 1000), model: request.model };
    if (fault?.kind === 'malformed') return sendJson(res, 200, JSON.stringify({ ...base, object: 'chat.completion' }));
    const reply = (this.options.reply ?? defaultReply)(messages, request);
    if (request.stream !== true) {
      const choice = { index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' };
      const prompt = messages.reduce((n: number, m: { content?: unknown }) => n + countTokens(String(m.content ?? '')), 0);
      const usage = { prompt_tokens: prompt, completion_tokens: countTokens(reply), total_tokens: prompt + countTokens(reply) };
      return sendJson(res, 200, JSON.stringify({ ...base, object: 'chat.completion', choices: [choice], usage }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    chunk({ role: 'assistant', content: '' }, null);
    const pieces = reply.match(/\S+\s*/g) ?? [];
    if (fault?.kind === 'stall') return void chunk({ content: pieces[0] }, null);
    for (const piece of pieces) chunk({ content: piece }, null);
    chunk({}, 'stop');
    res.end('data: [DONE]\n\n');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, JSON.stringify({ error: { message, type, param: null, code: null } }));
}
