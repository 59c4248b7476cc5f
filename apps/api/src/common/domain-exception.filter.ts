import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConflictError, InvalidInputError, NotFoundError, ReindexConflictError } from '@app/memory';
import { ApiException } from './api-exception';
import { AnsweredError } from './answered-error';
import { codeOfStatus, ERROR_CODES, type ErrorAnswer, type ErrorCode, errorBody } from './error-code';
import { IdempotencyKeyReusedError } from './idempotency-key-reused.error';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';
import { isRedisUnavailable } from '@app/memory/redis/redis-unavailable';
import { TenantBusyError } from './tenant-busy.error';

const CODES: [new (...args: never[]) => Error, ErrorCode][] = [
  [InvalidInputError, 'invalid_input'],
  [NotFoundError, 'not_found'],
  [ConflictError, 'session_user_conflict'],
  [ReindexConflictError, 'reindex_conflict'],
  [IdempotencyKeyReusedError, 'idempotency_key_reused'],
  [TenantBusyError, 'tenant_busy'],
  [JobTimeoutError, 'job_timeout'],
  [JobFailedError, 'job_failed'],
];

/** The error code of a domain error, or undefined for an unexpected one (a 500, logged). */
const domainCode = (err: unknown): ErrorCode | undefined => CODES.find(([type]) => err instanceof type)?.[1];

/** The HTTP status of a domain error, or undefined for an unexpected one. */
export function domainStatus(err: unknown): number | undefined {
  const code = domainCode(err);
  return code && ERROR_CODES[code];
}


const logger = new Logger('HTTP');

/** Fastify's 415 says only "Unsupported Media Type": say what to send. */
const MEDIA_TYPE_MESSAGE = 'send the body as JSON, with Content-Type: application/json';

/** The one place where errors become HTTP answers: {statusCode, error, code, message} (see error-code.ts); an unexpected error is logged and answers 500. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof AnsweredError) return err.answer;
  if (err instanceof ApiException) return { status: err.getStatus(), body: errorBody(err.getStatus(), err.code, err.message, err.details), headers: {} };
  if (err instanceof HttpException) {
    // Nest's own exceptions (validation, 404 routes, the throttler) and Fastify's (415, 413), mapped by Nest.
    const status = err.getStatus();
    const body = err.getResponse();
    const message = status === HttpStatus.UNSUPPORTED_MEDIA_TYPE ? MEDIA_TYPE_MESSAGE : typeof body === 'string' ? body : (body as { message: string | string[] }).message;
    return { status, body: errorBody(status, codeOfStatus(status), message), headers: {} };
  }
  if (isRedisUnavailable(err)) {
    const status = HttpStatus.SERVICE_UNAVAILABLE;
    return { status, body: errorBody(status, 'redis_unavailable', 'Redis is unavailable; retry after 5 s'), headers: { 'Retry-After': '5' } };
  }
  const code = domainCode(err);
  if (code === undefined) {
    logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'internal error'), headers: {} };
  }
  const headers: Record<string, string> = err instanceof TenantBusyError ? { 'Retry-After': String(err.retryAfterSeconds) } : {};
  return { status: ERROR_CODES[code], body: errorBody(ERROR_CODES[code], code, (err as Error).message), headers };
}

@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const { status, body, headers } = errorAnswer(err);
    host.switchToHttp().getResponse<FastifyReply>().headers(headers).status(status).send(body);
  }
}
