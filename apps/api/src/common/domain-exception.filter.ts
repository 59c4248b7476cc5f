import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConflictError, InvalidInputError, NotFoundError } from '@app/memory';
import { ApiException } from './api-exception';
import { codeOfStatus, ERROR_CODES, type ErrorCode, errorBody } from './error-code';
import { IdempotencyKeyReusedError } from './idempotency-key-reused.error';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';
import { isRedisUnavailable } from './redis-unavailable';
import { TenantBusyError } from './tenant-busy.error';

const CODES: [new (...args: never[]) => Error, ErrorCode][] = [
  [InvalidInputError, 'invalid_input'],
  [NotFoundError, 'not_found'],
  [ConflictError, 'session_user_conflict'],
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

/** Fastify's 415 says only "Unsupported Media Type": say what to send. */
const MEDIA_TYPE_MESSAGE = 'send the body as JSON, with Content-Type: application/json';

/** The one place where errors become HTTP answers: {statusCode, error, code, message} (see error-code.ts). */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof ApiException) {
      reply.status(err.getStatus()).send(errorBody(err.getStatus(), err.code, err.message, err.details));
      return;
    }
    if (err instanceof HttpException) {
      // Nest's own exceptions (validation, 404 routes, the throttler) and Fastify's (415, 413), mapped by Nest.
      const status = err.getStatus();
      const body = err.getResponse();
      const message = status === HttpStatus.UNSUPPORTED_MEDIA_TYPE ? MEDIA_TYPE_MESSAGE : typeof body === 'string' ? body : (body as { message: string | string[] }).message;
      reply.status(status).send(errorBody(status, codeOfStatus(status), message));
      return;
    }
    if (isRedisUnavailable(err)) {
      reply.header('Retry-After', '5').status(HttpStatus.SERVICE_UNAVAILABLE);
      reply.send(errorBody(HttpStatus.SERVICE_UNAVAILABLE, 'redis_unavailable', 'Redis is unavailable; retry after 5 s'));
      return;
    }
    const code = domainCode(err);
    if (code === undefined) {
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      reply.status(HttpStatus.INTERNAL_SERVER_ERROR).send(errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'internal error'));
      return;
    }
    if (err instanceof TenantBusyError) reply.header('Retry-After', String(err.retryAfterSeconds));
    reply.status(ERROR_CODES[code]).send(errorBody(ERROR_CODES[code], code, (err as Error).message));
  }
}
