/** An Idempotency-Key sent again with another request than the one it first named; maps to 422, and nothing is stored. */
export class IdempotencyKeyReusedError extends Error {
  constructor(key: string) {
    super(`Idempotency-Key ${key} was first sent with another message: send a new key for a new message (the same key and message replay the answer)`);
    this.name = 'IdempotencyKeyReusedError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
