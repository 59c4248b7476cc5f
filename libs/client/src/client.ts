import createClient, { type Client } from 'openapi-fetch';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { AgentMemoryError, errorOf } from './errors.js';
import { retryingFetch } from './retrying-fetch.js';
import type { components, operations, paths } from './schema.js';

type Schemas = components['schemas'];
export type TurnInput = Schemas['TurnDto'];
export type AcceptedTurns = Schemas['AcceptedTurns'];
export type HistoryPage = Schemas['HistoryPage'];
export type SessionSummary = Schemas['SessionSummaryView'];
export type ChatRequest = Schemas['ChatDto'];
export type ChatResponse = Schemas['ChatResponse'];
export type MemoryHit = Schemas['MemoryHit'];
export type SearchRequest = Schemas['SearchAllMemoriesBody'];
export type SearchResponse = Schemas['SearchMemoriesResponse'];
export type ContextRequest = Schemas['ContextBody'];
export type ContextResponse = Schemas['ContextResponse'];
export type SessionsPage = Schemas['SessionsPage'];
export type MemoriesPage = Schemas['MemoriesPage'];
export type MemoryHistory = Schemas['MemoryHistoryView'];
export type Readiness = Schemas['Readiness'];
export type IssueKeyRequest = Schemas['IssueKeyBody'];
export type IssuedKey = Schemas['IssuedKeyView'];
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
export type SessionSearchQuery = Query<'SearchMemoriesController_session'>;
export type ReindexStatus = Schemas['ReindexStatusView'];
export type SessionsQuery = Query<'ListSessionsController_list'>;
export type PageQuery = Query<'ListMemoriesController_user'>;

/** A streamed chat: the reply's tokens as they come, then the whole response. */
export type ChatStreamEvent = { type: 'token'; text: string } | { type: 'done'; response: ChatResponse };

export interface AgentMemoryClientOptions {
  /** The API's origin, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Per call, retries included (default 30 s). */
  timeoutMs?: number;
  /** Retries on 429, 503 and connection failures (default 3). */
  maxRetries?: number;
  /** Another fetch (default globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface WriteOptions extends CallOptions {
  /** Names the write so that sending it again stores nothing twice (default: a fresh UUID per call). */
  idempotencyKey?: string;
}

/** Every operation of the API has a method here (the compiler checks it); the OpenAI-compatible ones are the openai SDK's. */
export const OPERATION_METHODS: Record<keyof operations, keyof AgentMemoryClient | 'openai SDK'> = {
  HealthController_health: 'health',
  HealthController_ready: 'ready',
  WriteTurnsController_write: 'addTurns',
  SessionHistoryController_history: 'history',
  SessionSummaryController_summary: 'summary',
  ChatController_send: 'chat',
  SearchMemoriesController_session: 'sessionMemories',
  SearchMemoriesController_tenant: 'search',
  ContextController_build: 'context',
  ListSessionsController_list: 'sessions',
  ForgetTurnController_forget: 'forgetTurn',
  ForgetSessionController_forget: 'forgetSession',
  ForgetUserController_forget: 'forgetUser',
  ListMemoriesController_user: 'userMemories',
  ListMemoriesController_session: 'sessionLongTermMemories',
  MemoryHistoryController_history: 'memoryHistory',
  ForgetMemoryController_forget: 'forgetMemory',
  ApiKeysController_issue: 'issueKey',
  ApiKeysController_revoke: 'revokeKey',
  ReindexController_start: 'startReindex',
  ReindexController_status: 'reindexStatus',
  ReindexController_abort: 'abortReindex',
  ChatCompletionsController_create: 'openai SDK',
  ChatCompletionsController_models: 'openai SDK',
};

const uuid = () => globalThis.crypto.randomUUID();

/**
 * The agent-memory API, typed from its OpenAPI document. Every call has a timeout and takes an AbortSignal; 429 and
 * 503 are retried after Retry-After; writes carry ids by default, so a retry never stores twice; a non-2xx answer
 * throws AgentMemoryError with the API's error code.
 */
export class AgentMemoryClient {
  private readonly api: Client<paths>;
  private readonly fetch: typeof fetch;
  private readonly defaults: { timeoutMs: number; maxRetries: number };

  constructor(options: AgentMemoryClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.defaults = { timeoutMs: options.timeoutMs ?? 30_000, maxRetries: options.maxRetries ?? 3 };
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    });
  }

  /** Liveness. */
  health(opts?: CallOptions) {
    return this.call((fetch) => this.api.GET('/healthz', { fetch }), opts);
  }

  /** Readiness, answered whether ready or not (503 is an answer here, not retried). */
  async ready(opts: CallOptions = {}): Promise<Readiness & { ready: boolean }> {
    const { data, error, response } = await this.api.GET('/readyz', { fetch: this.fetchFor({ ...opts, maxRetries: 0 }) });
    return { ...((data ?? error) as Readiness), ready: response.ok };
  }

  /** Stores turns; each without an `id` gets one, so sending the same call again stores nothing twice. */
  addTurns(sessionId: string, turns: TurnInput[], opts: CallOptions & { userId?: string; wait?: boolean } = {}): Promise<AcceptedTurns> {
    const body = { turns: turns.map((t) => ({ ...t, id: t.id ?? uuid() })), ...(opts.userId ? { userId: opts.userId } : {}) };
    const query = opts.wait ? { wait: 'true' } : {};
    return this.call((fetch) => this.api.POST('/v1/sessions/{sessionId}/turns', { params: { path: { sessionId }, query }, body, fetch }), opts);
  }

  history(sessionId: string, query: { limit?: number; offset?: number } = {}, opts?: CallOptions): Promise<HistoryPage> {
    return this.call((fetch) => this.api.GET('/v1/sessions/{sessionId}/turns', { params: { path: { sessionId }, query }, fetch }), opts);
  }

  /** The session's rolling summary: the current version, its range, and the versions kept. */
  summary(sessionId: string, opts?: CallOptions): Promise<SessionSummary> {
    return this.call((fetch) => this.api.GET('/v1/sessions/{sessionId}/summary', { params: { path: { sessionId } }, fetch }), opts);
  }

  /** One agent cycle on the server: store, retrieve, assemble, call its LLM, store the reply. */
  chat(sessionId: string, body: ChatRequest, opts: WriteOptions = {}): Promise<ChatResponse> {
    const header = { 'Idempotency-Key': opts.idempotencyKey ?? uuid() };
    return this.call((fetch) => this.api.POST('/v1/sessions/{sessionId}/chat', { params: { path: { sessionId }, header }, body, fetch }), opts);
  }

  /** The same cycle with the reply streamed: token events, then a done event with the whole response. */
  async *chatStream(sessionId: string, body: ChatRequest, opts: WriteOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const header = { 'Idempotency-Key': opts.idempotencyKey ?? uuid() };
    const stream = await this.call(
      (fetch) =>
        this.api.POST('/v1/sessions/{sessionId}/chat', { params: { path: { sessionId }, header }, headers: { accept: 'text/event-stream' }, body, parseAs: 'stream', fetch }),
      opts,
    );
    const events = (stream as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const event of events as unknown as AsyncIterable<{ event?: string; data: string }>) {
      const data = JSON.parse(event.data) as { text?: string; message?: string } & ChatResponse;
      if (event.event === 'token') yield { type: 'token', text: data.text ?? '' };
      else if (event.event === 'done') yield { type: 'done', response: data };
      else if (event.event === 'error') throw new AgentMemoryError(502, 'stream_error', data.message ?? 'the stream failed', data);
    }
  }

  /** One session's memories for a query (GET, filters in the query string). */
  sessionMemories(sessionId: string, query: SessionSearchQuery, opts?: CallOptions): Promise<SearchResponse> {
    return this.call((fetch) => this.api.GET('/v1/sessions/{sessionId}/memories', { params: { path: { sessionId }, query }, fetch }), opts);
  }

  /** Memories across the tenant's sessions, filtered by user, sessions, time, roles and tags. */
  search(body: SearchRequest, opts?: CallOptions): Promise<SearchResponse> {
    return this.call((fetch) => this.api.POST('/v1/memories/search', { body, fetch }), opts);
  }

  /** The memory context for your own LLM call: a system message with the memories, then the recent turns. */
  context(sessionId: string, body: ContextRequest, opts?: CallOptions): Promise<ContextResponse> {
    return this.call((fetch) => this.api.POST('/v1/sessions/{sessionId}/context', { params: { path: { sessionId } }, body, fetch }), opts);
  }

  sessions(query: SessionsQuery = {}, opts?: CallOptions): Promise<SessionsPage> {
    return this.call((fetch) => this.api.GET('/v1/sessions', { params: { query }, fetch }), opts);
  }

  forgetTurn(sessionId: string, turnId: string, opts?: CallOptions) {
    return this.call((fetch) => this.api.DELETE('/v1/sessions/{sessionId}/turns/{turnId}', { params: { path: { sessionId, turnId } }, fetch }), opts);
  }

  forgetSession(sessionId: string, opts?: CallOptions) {
    return this.call((fetch) => this.api.DELETE('/v1/sessions/{sessionId}', { params: { path: { sessionId } }, fetch }), opts);
  }

  forgetUser(userId: string, opts?: CallOptions) {
    return this.call((fetch) => this.api.DELETE('/v1/users/{userId}', { params: { path: { userId } }, fetch }), opts);
  }

  /** A user's long-term memories (extracted facts), a page at a time. */
  userMemories(userId: string, query: PageQuery = {}, opts?: CallOptions): Promise<MemoriesPage> {
    return this.call((fetch) => this.api.GET('/v1/users/{userId}/memories', { params: { path: { userId }, query }, fetch }), opts);
  }

  /** A session's long-term memories, a page at a time. */
  sessionLongTermMemories(sessionId: string, query: PageQuery = {}, opts?: CallOptions): Promise<MemoriesPage> {
    return this.call((fetch) => this.api.GET('/v1/sessions/{sessionId}/long-term-memories', { params: { path: { sessionId }, query }, fetch }), opts);
  }

  memoryHistory(memoryId: string, opts?: CallOptions): Promise<MemoryHistory> {
    return this.call((fetch) => this.api.GET('/v1/memories/{memoryId}/history', { params: { path: { memoryId } }, fetch }), opts);
  }

  forgetMemory(memoryId: string, opts?: CallOptions) {
    return this.call((fetch) => this.api.DELETE('/v1/memories/{memoryId}', { params: { path: { memoryId } }, fetch }), opts);
  }

  /** An admin key issues a key for its tenant, optionally bound to one user and to some scopes. */
  issueKey(body: IssueKeyRequest = {}, opts?: CallOptions): Promise<IssuedKey> {
    return this.call((fetch) => this.api.POST('/v1/keys', { body, fetch }), opts);
  }

  /** Revokes one of the tenant's keys by its id (the key's SHA-256, as `issueKey` and `keys list` give it). */
  revokeKey(keyId: string, opts?: CallOptions) {
    return this.call((fetch) => this.api.DELETE('/v1/keys/{keyId}', { params: { path: { keyId } }, fetch }), opts);
  }

  /** The operator tenant's admin key starts re-embedding the whole store into another model (`provider/model/dim`). */
  startReindex(to: string, opts?: CallOptions): Promise<ReindexStatus> {
    return this.call((fetch) => this.api.POST('/v1/admin/reindex', { body: { to }, fetch }), opts);
  }

  /** The store's embedding generations and the running re-index's progress. */
  reindexStatus(opts?: CallOptions): Promise<ReindexStatus> {
    return this.call((fetch) => this.api.GET('/v1/admin/reindex', { fetch }), opts);
  }

  /** Rolls a re-index back (before the switch, or within the grace period after it). */
  abortReindex(opts?: CallOptions): Promise<ReindexStatus> {
    return this.call((fetch) => this.api.DELETE('/v1/admin/reindex', { fetch }), opts);
  }

  private fetchFor(opts: CallOptions) {
    return retryingFetch(this.fetch, { timeoutMs: opts.timeoutMs ?? this.defaults.timeoutMs, maxRetries: opts.maxRetries ?? this.defaults.maxRetries, signal: opts.signal });
  }

  private async call<T>(send: (fetch: (r: Request) => Promise<Response>) => Promise<{ data?: T; error?: unknown; response: Response }>, opts: CallOptions = {}): Promise<T> {
    const { data, error, response } = await send(this.fetchFor(opts));
    if (!response.ok) throw errorOf(response, error);
    return data as T;
  }
}
