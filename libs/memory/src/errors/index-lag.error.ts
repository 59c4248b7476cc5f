/** A read-your-writes search timed out waiting for the in-process index to apply a change-log position. */
export class IndexLagError extends Error {
  constructor(
    readonly wanted: string,
    readonly applied: string,
    readonly waitedMs: number,
  ) {
    super(`Vector index has applied the change log up to ${applied}, not ${wanted}, after waiting ${waitedMs} ms`);
    this.name = 'IndexLagError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
