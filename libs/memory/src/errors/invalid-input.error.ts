/** Input that breaks a documented rule; maps to HTTP 400 and to a job that must not be retried. */
export class InvalidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
