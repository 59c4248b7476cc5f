import { HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-code';

/**
 * An onRequest hook that answers 503 to a request still unanswered `ms` after its first byte, whatever it waits for
 * (a stream, once started, is exempt: it has been answered). The handler itself runs on; its late answer is
 * dropped. Fastify's own `handlerTimeout` would do this, but it is cleared as soon as a request body has been read,
 * so it never fires for a POST (fastify/fastify#6725, open in 5.11 and 5.12).
 */
export function requestDeadline(ms: number) {
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const timer = setTimeout(() => {
      if (reply.sent) return;
      reply.code(HttpStatus.SERVICE_UNAVAILABLE).send(errorBody(HttpStatus.SERVICE_UNAVAILABLE, 'request_timeout', `no answer within HTTP_REQUEST_TIMEOUT_MS (${ms} ms)`));
    }, ms);
    reply.raw.once('close', () => clearTimeout(timer));
  };
}
