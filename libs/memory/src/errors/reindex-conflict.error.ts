/** A re-index request that the store's generations refuse (one runs, the store is on that model, none to abort); HTTP 409. */
export class ReindexConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReindexConflictError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
