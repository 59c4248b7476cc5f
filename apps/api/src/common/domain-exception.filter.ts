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

/** The one place where errors become HTTP answers: {statusCode, error, message}. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof HttpException) {
      const body = err.getResponse();
      reply.status(err.getStatus()).send(typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : body);
      return;
    }
    if (isRedisUnavailable(err)) {
      reply.header('Retry-After', '5').status(HttpStatus.SERVICE_UNAVAILABLE);
      reply.send({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: 'Redis is unavailable; retry after 5 s' });
      return;
    }
    const status = domainStatus(err);
    if (status === undefined) {
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    const code = status ?? HttpStatus.INTERNAL_SERVER_ERROR;
    if (err instanceof TenantBusyError) reply.header('Retry-After', String(err.retryAfterSeconds));
    reply.status(code).send({
      statusCode: code,
      error: err instanceof Error ? err.name : 'Error',
      message: status === undefined ? 'internal error' : (err as Error).message,
    });
  }
}
