/** A vector whose length differs from the index's dimension: never stored, never searched. */
export class DimensionMismatchError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
    source: string,
  ) {
    super(`${source} returned vectors of dimension ${actual}, but the index expects ${expected} (EMBEDDING_DIM)`);
    this.name = 'DimensionMismatchError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
