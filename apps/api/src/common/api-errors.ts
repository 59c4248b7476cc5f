import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorBodyShape } from './error-code';

/** Every error answer: {statusCode, error, code, message} (see DomainExceptionFilter). */
export class ErrorBody implements ErrorBodyShape {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request', description: 'The HTTP reason phrase' })
  error: string;

  @ApiProperty({ enum: Object.keys(ERROR_CODES), example: 'invalid_input', description: 'Stable and machine-readable: branch on it, not on the message' })
  code: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], example: ['k must not be greater than 100'], description: 'One message, or one per invalid field' })
  message: string | string[];
}

const MEANING: Record<number, string> = {
  400: 'Invalid input (unknown fields included); the message says which',
  401: 'Missing or unknown API key',
  403: 'The key belongs to another tenant than the one named in X-Tenant-Id, lacks the scope of the route (code scope_forbidden), or is bound to a user and the request names another user\'s data (code user_forbidden)',
  404: 'Not found',
  409: 'The session belongs to another user (session_user_conflict), or the embedding generations refuse the re-index request (reindex_conflict)',
  413: 'Body over 4 MiB',
  415: 'A body that is not JSON: send Content-Type: application/json',
  422: 'An Idempotency-Key sent again with another message',
  429: 'Rate limit, or the tenant is past one of its own bounds (turns queued, bulk writes at once); see Retry-After',
  502: 'A worker gave up on the job; the message has its reason',
  503: 'Redis is down or the queues are full; see Retry-After',
  504: 'No worker finished within JOB_TIMEOUT_MS',
};

/** Documents the errors an authenticated /v1 operation can answer, besides the ones every such operation can. */
export const ApiErrors = (...specific: number[]) =>
  applyDecorators(
    ...[...new Set([400, 401, 403, 429, 503, ...specific])]
      .sort()
      .map((status) => ApiResponse({ status, description: MEANING[status], type: ErrorBody })),
  );
