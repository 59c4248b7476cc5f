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
