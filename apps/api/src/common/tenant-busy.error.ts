/** The tenant has too many turns queued (TENANT_MAX_QUEUED); maps to 429 with Retry-After, and no other tenant notices. */
export class TenantBusyError extends Error {
  readonly retryAfterSeconds = 1;

  constructor(tenant: string, queued: number, max: number, adding: number) {
    super(`tenant ${tenant} has ${queued} turns queued, and ${adding} more would pass TENANT_MAX_QUEUED ${max}; retry after 1 s`);
    this.name = 'TenantBusyError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
