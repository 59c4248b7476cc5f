/** A job's reply (with its result) was sent while this replica's reply channel was reconnecting; maps to HTTP 503. */
export class ReplyLostError extends Error {
  constructor(queue: string) {
    super(`the ${queue} job's result was lost while the API reconnected to Redis; retry`);
    this.name = 'ReplyLostError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
