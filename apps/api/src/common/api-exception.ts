import { HttpException } from '@nestjs/common';
import type { ErrorCode } from './error-code';

/** An HTTP error with its own machine-readable code (the status alone would give the generic one, see ERROR_CODES). */
export class ApiException extends HttpException {
  constructor(
    status: number,
    readonly code: ErrorCode,
    message: string,
    /** Extra fields of the body (readiness checks). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message, status);
    this.name = 'ApiException';
  }
}
