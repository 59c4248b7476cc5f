import { NotFoundError } from '@app/memory';

/** A write answering a turn (a chat's reply) after that turn, or its whole session, was forgotten; maps to 404. */
export class TurnForgottenError extends NotFoundError {
  constructor(session: string, turnId: string) {
    super(`turn ${turnId} of session ${session} was forgotten meanwhile: the reply to it is not stored`);
    this.name = 'TurnForgottenError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
