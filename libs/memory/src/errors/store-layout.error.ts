/** The Redis store was written by a build with another key layout: `npm run cli -- migrate` moves it. */
export class StoreLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLayoutError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
