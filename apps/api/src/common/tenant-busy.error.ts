/**
 * One tenant is past one of its own bounds (queued turns, concurrent bulk writes); maps to 429 with Retry-After, and
 * no other tenant notices. `statusCode` is for Fastify, which answers errors thrown in its hooks itself.
 */
export class TenantBusyError extends Error {
  readonly retryAfterSeconds = 1;
  readonly statusCode = 429;

  constructor(reason: string) {
    super(`${reason}; retry after 1 s`);
    this.name = 'TenantBusyError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
