import type { ErrorAnswer } from './error-code';

/** An error already made into its HTTP answer elsewhere (by errorAnswer in the ingest thread): answered as it is. */
export class AnsweredError extends Error {
  constructor(readonly answer: ErrorAnswer) {
    super(Array.isArray(answer.body.message) ? answer.body.message.join('; ') : answer.body.message);
    this.name = 'AnsweredError';
  }
}
