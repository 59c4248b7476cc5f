import { CanActivate, ExecutionContext, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { MemoryConfig, QUEUES } from '@app/memory';
import { REDIS } from '@app/memory/nest/tokens';
import { JobGateway } from './job-gateway';
import type { TenantRequest } from './tenant.decorator';

/** How long a sampled queue depth is trusted: one Redis round trip per interval, not per request. */
const SAMPLE_MS = 250;

/**
 * Answers 503 with Retry-After, at once, when Redis is down or a queue holds more than QUEUE_MAX_WAITING
 * waiting jobs, instead of hanging or letting the queue grow without bound.
 */
@Injectable()
export class LoadSheddingGuard implements CanActivate {
  private sampledAt = 0;
  private deepest = 0;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly jobs: JobGateway,
    private readonly config: MemoryConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    // Health and metrics (the routes without a tenant) must answer during an outage: that is when they matter.
    if (!ctx.switchToHttp().getRequest<TenantRequest>().tenant) return true;
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    if (this.redis.status !== 'ready') this.shed(reply, 5, 'Redis is unavailable');
    if (Date.now() - this.sampledAt > SAMPLE_MS) {
      this.sampledAt = Date.now();
      const depths = await Promise.all(Object.values(QUEUES).map((q) => this.jobs.queue(q).getWaitingCount()));
      this.deepest = Math.max(...depths);
    }
    if (this.deepest > this.config.QUEUE_MAX_WAITING) {
      this.shed(reply, 1, `queues are full (${this.deepest} waiting jobs > QUEUE_MAX_WAITING ${this.config.QUEUE_MAX_WAITING})`);
    }
    return true;
  }

  private shed(reply: FastifyReply, retryAfterSeconds: number, message: string): never {
    reply.header('Retry-After', String(retryAfterSeconds));
    throw new ServiceUnavailableException(`${message}; retry after ${retryAfterSeconds} s`);
  }
}
