import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { duplicateForProbe, type RedisClient } from '@app/memory/redis/create-redis';
import { Reflector } from '@nestjs/core';
import { MemoryConfig, type QueueName, QUEUES } from '@app/memory';
import { REDIS } from '@app/memory/nest/tokens';
import { ApiException } from './api-exception';
import { JobGateway } from './job-gateway';
import type { TenantRequest } from './tenant.decorator';
import { USES_QUEUES } from './uses-queues.decorator';

/** How long a sampled queue depth is trusted: one Redis round trip per interval, not per request. */
const SAMPLE_MS = 250;

/**
 * Answers 503 with Retry-After, at once, when Redis is down or not answering, or a queue the route uses (see
 * @UsesQueues) holds more than QUEUE_MAX_WAITING waiting jobs, instead of hanging or letting the queue grow without
 * bound; a backlog of writes does not shed searches. A hung Redis keeps
 * its connections open (status 'ready'), so the depth sample is the probe too: once one got no answer within
 * REDIS_COMMAND_TIMEOUT_MS, requests are shed without waiting until a later sample is answered. The sample has a
 * connection of its own: on the shared ones it waited behind a tenant's bulk writes, and their backlog shed everyone.
 */
@Injectable()
export class LoadSheddingGuard implements CanActivate, OnApplicationShutdown {
  private readonly logger = new Logger('LoadShedding');
  private sampledAt = 0;
  private depths: Partial<Record<QueueName, number>> = {};
  private answering = true;
  private sampling?: Promise<void>;
  private readonly probe: RedisClient;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly jobs: JobGateway,
    private readonly config: MemoryConfig,
    private readonly reflector: Reflector,
  ) {
    this.probe = duplicateForProbe(redis, 'agent-memory:load-shedding');
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    // Health and metrics (the routes without a tenant) must answer during an outage: that is when they matter.
    if (!ctx.switchToHttp().getRequest<TenantRequest>().tenant) return true;
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    if (this.redis.status !== 'ready') this.shed(reply, 5, 'Redis is unavailable');
    if (Date.now() - this.sampledAt > SAMPLE_MS) this.sampling ??= this.sample();
    if (this.answering) await this.sampling;
    if (!this.answering) this.shed(reply, 5, 'Redis is not answering');
    const uses = this.reflector.getAllAndOverride<QueueName[] | undefined>(USES_QUEUES, [ctx.getHandler(), ctx.getClass()]) ?? [];
    const full = uses.find((q) => (this.depths[q] ?? 0) > this.config.QUEUE_MAX_WAITING);
    if (full) {
      this.shed(reply, 1, `the ${full} queue is full (${this.depths[full]} waiting jobs > QUEUE_MAX_WAITING ${this.config.QUEUE_MAX_WAITING})`);
    }
    return true;
  }

  /** Never rejects: a failure (a command timeout included) is what it measures. */
  private async sample(): Promise<void> {
    try {
      const names = Object.values(QUEUES);
      // Waiting jobs: the wait list, and the prioritized set where a flooding tenant's embed jobs queue (embedPriority).
      const depths = await Promise.all(
        names.map(async (q) => {
          const { wait, prioritized } = this.jobs.queue(q).keys;
          const [waiting, queued] = await Promise.all([this.probe.llen(wait), this.probe.zcard(prioritized)]);
          return waiting + queued;
        }),
      );
      this.depths = Object.fromEntries(names.map((q, i) => [q, depths[i]]));
      if (!this.answering) this.logger.log('Redis answers again: no longer shedding');
      this.answering = true;
    } catch (err) {
      if (this.answering) this.logger.warn(`Redis is not answering (${(err as Error).message}): shedding every request until it does`);
      this.answering = false;
    } finally {
      this.sampledAt = Date.now();
      this.sampling = undefined;
      // While Redis does not answer, probe on without waiting for a request: the first one after it is back passes.
      if (!this.answering) setTimeout(() => (this.sampling ??= this.sample()), SAMPLE_MS).unref();
    }
  }

  onApplicationShutdown(): void {
    this.probe.disconnect();
  }

  private shed(reply: FastifyReply, retryAfterSeconds: number, message: string): never {
    reply.header('Retry-After', String(retryAfterSeconds));
    throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, 'overloaded', `${message}; retry after ${retryAfterSeconds} s`);
  }
}
