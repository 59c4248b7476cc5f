export type SearchFailure = 'timeout' | 'malformed';

/** RediSearch timed out, or answered with something other than a count followed by results: never read as "no hits". */
export class SearchReplyError extends Error {
  constructor(
    readonly reason: SearchFailure,
    detail: string,
  ) {
    super(`RediSearch query ${reason === 'timeout' ? 'timed out' : 'gave a malformed reply'}: ${detail}`);
    this.name = 'SearchReplyError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
