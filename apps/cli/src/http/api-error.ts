/** A non-2xx answer of the API, with its status and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** From a Retry-After header (seconds), when the API sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}: ${message}`);
    this.name = 'ApiError';
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /** 5xx and 429 may succeed when sent again; 4xx will not. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}
