/** An existing index (or the vectors stored for one) does not match the configured schema or EMBEDDING_DIM. */
export class IndexSchemaMismatchError extends Error {
  constructor(
    readonly index: string,
    readonly differences: string[],
  ) {
    super(`Vector index ${index} does not match the configuration: ${differences.join('; ')}`);
    this.name = 'IndexSchemaMismatchError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
