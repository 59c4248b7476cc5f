/** The API answered with an error: its HTTP status and its error code (the body's `code`, else its status). */
export class AgentMemoryError extends Error {
  constructor(
    readonly status: number,
    /** The API's stable error code; the HTTP status as a string when the API sent none. */
    readonly code: string,
    message: string,
    /** The error body as the API sent it. */
    readonly body: unknown,
    /** From Retry-After, when the API sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}: ${message}`);
    this.name = 'AgentMemoryError';
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /** 429 and 5xx may succeed when sent again (writes carry ids, so sending again stores nothing twice). */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** The call did not finish within its timeout (retries and their waits included). */
export class AgentMemoryTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${url} within ${timeoutMs} ms`);
    this.name = 'AgentMemoryTimeoutError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** No HTTP answer at all (refused, reset, unknown host), after the retries. */
export class AgentMemoryConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(`cannot reach the API at ${url} (${inner?.code ?? inner?.message ?? (cause as Error).message})`, { cause });
    this.name = 'AgentMemoryConnectionError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The typed error of a non-2xx answer; `code` falls back to the status when the body has none. */
export function errorOf(response: Response, body: unknown): AgentMemoryError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  const message = Array.isArray(b.message) ? b.message.join('; ') : typeof b.message === 'string' ? b.message : typeof body === 'string' && body ? body : response.statusText;
  const code = typeof b.code === 'string' ? b.code : String(typeof b.statusCode === 'number' ? b.statusCode : response.status);
  return new AgentMemoryError(response.status, code, message, body, retryAfterMs(response.headers.get('retry-after')));
}
