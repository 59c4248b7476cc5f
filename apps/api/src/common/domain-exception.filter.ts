import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ConflictError, InvalidInputError, NotFoundError } from '@app/memory';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';
import { isRedisUnavailable } from '@app/memory/redis/redis-unavailable';
import { TenantBusyError } from './tenant-busy.error';

const STATUS: [new (...args: never[]) => Error, number][] = [
  [InvalidInputError, HttpStatus.BAD_REQUEST],
  [NotFoundError, HttpStatus.NOT_FOUND],
  [ConflictError, HttpStatus.CONFLICT],
  [TenantBusyError, HttpStatus.TOO_MANY_REQUESTS],
  [JobTimeoutError, HttpStatus.GATEWAY_TIMEOUT],
  [JobFailedError, HttpStatus.BAD_GATEWAY],
];

/** The HTTP status of a domain error, or undefined for an unexpected one (a 500, logged). */
export function domainStatus(err: unknown): number | undefined {
  return STATUS.find(([type]) => err instanceof type)?.[1];
}

/** An error's HTTP answer: status, body {statusCode, error, message} and headers. */
export interface ErrorAnswer {
  status: number;
  body: { statusCode: number; error?: string; message: string | string[] };
  headers: Record<string, string>;
}

const logger = new Logger('HTTP');

/** The one place where errors become HTTP answers (unexpected ones are logged and answer 500). */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpException) {
    const body = err.getResponse();
    return { status: err.getStatus(), body: typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : (body as ErrorAnswer['body']), headers: {} };
  }
  if (isRedisUnavailable(err)) {
    const status = HttpStatus.SERVICE_UNAVAILABLE;
    return { status, body: { statusCode: status, error: 'Service Unavailable', message: 'Redis is unavailable; retry after 5 s' }, headers: { 'Retry-After': '5' } };
  }
  const known = domainStatus(err);
  if (known === undefined) {
    logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
  const status = known ?? HttpStatus.INTERNAL_SERVER_ERROR;
  return {
    status,
    body: { statusCode: status, error: err instanceof Error ? err.name : 'Error', message: known === undefined ? 'internal error' : (err as Error).message },
    headers: err instanceof TenantBusyError ? { 'Retry-After': String(err.retryAfterSeconds) } : {},
  };
}

@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const { status, body, headers } = errorAnswer(err);
    host.switchToHttp().getResponse<FastifyReply>().headers(headers).status(status).send(body);
  }
}
