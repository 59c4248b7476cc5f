import { ApiError } from './api-error';
import type { AcceptedTurns, ChatResponse, HistoryPage, MemoriesResponse, MemorySearch, TurnInput } from './api-types';

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

  chat(session: string, message: string, options: { k?: number; windowHours?: number } = {}): Promise<ChatResponse> {
    return this.json('POST', `${this.sessionPath(session)}/chat`, { message, ...options });
  }

  memories(session: string, q: string, k?: number): Promise<MemoriesResponse> {
    return this.json('GET', `${this.sessionPath(session)}/memories?${query({ q, k })}`);
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
      const res = await fetch(`${this.url}/readyz`, { headers: this.headers });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false; // not listening yet
    }
  }

  async metricsText(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`, { headers: this.headers });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text);
    return text;
  }

  private sessionPath(session: string): string {
    return `/v1/sessions/${encodeURIComponent(session)}`;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      // Fastify refuses an empty body that claims to be JSON, so the type goes only with a body.
      headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, errorMessage(text) ?? res.statusText, retryAfterMs(res.headers.get('retry-after')));
    return JSON.parse(text) as T;
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
