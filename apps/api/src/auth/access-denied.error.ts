import { HttpStatus } from '@nestjs/common';
import { ApiException } from '../common/api-exception';

/** Why a valid key is refused: it lacks the route's scope, or (a user key) the request names another user's data. */
export type AccessDeniedCode = 'scope_forbidden' | 'user_forbidden';

/** A 403 with a stable `code`, so a client can tell a missing scope from another user's data. */
export class AccessDeniedError extends ApiException {
  constructor(code: AccessDeniedCode, message: string) {
    super(HttpStatus.FORBIDDEN, code, message);
    this.name = 'AccessDeniedError';
  }
}

/** A user key's request names a session that exists and is not its user's (another user's, or one without a user). */
export const sessionNotTheirs = (user: string, session: string): AccessDeniedError =>
  new AccessDeniedError('user_forbidden', `this API key is bound to user ${user}: session ${session} is not theirs`);
