/** A worker gave up on a job (after its retries, or at once for a permanent error); maps to HTTP 502. */
export class JobFailedError extends Error {
  constructor(
    queue: string,
    readonly reason: string,
  ) {
    super(`${queue} job failed: ${reason}`);
    this.name = 'JobFailedError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
