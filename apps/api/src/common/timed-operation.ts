import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type Endpoint, Metrics, type Operation } from '@app/memory';
import { startTimer } from '@app/memory/metrics/timer';
import { type Observable, tap } from 'rxjs';

interface TimedOperationSpec {
  operation: Operation;
  /** A fixed endpoint, or one picked from the request (POST /turns with or without ?wait=true). */
  endpoint: Endpoint | ((request: FastifyRequest) => Endpoint);
}

const TIMED_OPERATION = Symbol('timed-operation');

/**
 * Records the handler's successful calls in agent_memory_operation_duration_seconds{operation, endpoint}, so
 * an agent that calls POST /turns and GET /memories with its own LLM gets write and read percentiles too.
 * (Chat records its own five operations, from inside the cycle.)
 */
export const TimedOperation = (operation: Operation, endpoint: TimedOperationSpec['endpoint']) =>
  SetMetadata(TIMED_OPERATION, { operation, endpoint } satisfies TimedOperationSpec);

@Injectable()
export class TimedOperationInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly metrics: Metrics,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<TimedOperationSpec | undefined>(TIMED_OPERATION, context.getHandler());
    if (!spec) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const endpoint = typeof spec.endpoint === 'function' ? spec.endpoint(request) : spec.endpoint;
    const elapsed = startTimer();
    return next.handle().pipe(tap(() => this.metrics.observeOperation(spec.operation, endpoint, elapsed())));
  }
}
