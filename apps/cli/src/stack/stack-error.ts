/** The local stack could not start: the message says what to do. */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
