import { ApiError } from './api-error';
import { ApiUnreachableError } from './api-unreachable.error';
import type { AcceptedTurns, ChatResponse, HistoryPage, MemoriesResponse, MemorySearch, SearchMode, TurnInput } from './api-types';

export interface ApiClientOptions {
  url: string;
  apiKey?: string;
}

/** The agent-memory HTTP API. Node's fetch keeps connections alive between calls. */
export class ApiClient {
  readonly url: string;
  private readonly headers: Record<string, string>;

  constructor({ url, apiKey }: ApiClientOptions) {
    this.url = url.replace(/\/+$/, '');
    this.headers = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  }

  addTurns(session: string, turns: TurnInput[], wait = false, userId?: string): Promise<AcceptedTurns> {
    return this.json('POST', `${this.sessionPath(session)}/turns${wait ? '?wait=true' : ''}`, { turns, userId });
  }

  chat(session: string, message: string, options: { k?: number; windowHours?: number; mode?: SearchMode } = {}): Promise<ChatResponse> {
    return this.json('POST', `${this.sessionPath(session)}/chat`, { message, ...options });
  }

  memories(session: string, q: string, k?: number, options: { windowHours?: number; mode?: SearchMode; asOf?: number; neighbours?: number } = {}): Promise<MemoriesResponse> {
    return this.json('GET', `${this.sessionPath(session)}/memories?${query({ q, k, ...options })}`);
  }

  /** Memories across the tenant's sessions, filtered (by user, sessions, time, roles, tags). */
  searchMemories(search: MemorySearch): Promise<MemoriesResponse> {
    return this.json('POST', '/v1/memories/search', search);
  }

  history(session: string, offset = 0, limit = 100): Promise<HistoryPage> {
    return this.json('GET', `${this.sessionPath(session)}/turns?${query({ offset, limit })}`);
  }

  forget(session: string): Promise<{ deleted: number }> {
    return this.json('DELETE', this.sessionPath(session));
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.request('/readyz', { headers: this.headers })).res.ok;
    } catch (err) {
      if (err instanceof ApiUnreachableError) return false; // not listening yet
      throw err;
    }
  }

  async metricsText(): Promise<string> {
    const { res, text } = await this.request('/metrics', { headers: this.headers });
    if (!res.ok) throw new ApiError(res.status, text);
    return text;
  }

  private sessionPath(session: string): string {
    return `/v1/sessions/${encodeURIComponent(session)}`;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { res, text } = await this.request(path, {
      method,
      // Fastify refuses an empty body that claims to be JSON, so the type goes only with a body.
      headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new ApiError(res.status, errorMessage(text) ?? res.statusText, retryAfterMs(res.headers.get('retry-after')));
    return JSON.parse(text) as T;
  }

  /**
   * One request and its whole body; no answer becomes an error that names the URL. undici rejects with a bare
   * TypeError from Node's own realm, which is not `instanceof` the TypeError of a VM context (jest's): test the name.
   */
  private async request(path: string, init: RequestInit): Promise<{ res: Response; text: string }> {
    try {
      const res = await fetch(`${this.url}${path}`, init);
      return { res, text: await res.text() };
    } catch (err) {
      if ((err as Error | undefined)?.name === 'TypeError') throw new ApiUnreachableError(this.url, err);
      throw err;
    }
  }
}

const query = (params: Record<string, string | number | undefined>): string =>
  new URLSearchParams(
    Object.entries(params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();

const retryAfterMs = (header: string | null): number | undefined =>
  header !== null && Number.isFinite(Number(header)) ? Number(header) * 1000 : undefined;

/** The `message` of the API's error body ({statusCode, error, message}); message may be a list. */
function errorMessage(text: string): string | undefined {
  try {
    const { message } = JSON.parse(text) as { message?: string | string[] };
    return Array.isArray(message) ? message.join('; ') : message;
  } catch {
    return text || undefined;
  }
}
