/** No HTTP answer at all from the API: refused, reset, unknown host. The message names the URL and the cause. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const code = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(`cannot reach the API at ${url} (${code?.code ?? code?.message ?? (cause as Error).message})`, { cause });
    this.name = 'ApiUnreachableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
