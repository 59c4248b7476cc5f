/** A worker did not finish a job within JOB_TIMEOUT_MS; maps to HTTP 504. */
export class JobTimeoutError extends Error {
  constructor(queue: string, timeoutMs: number) {
    super(`no ${queue} worker finished the job within ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
