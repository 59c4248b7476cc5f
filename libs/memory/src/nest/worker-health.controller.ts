import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { GenerationWatch } from '../generation/generation-watch';
import type { RedisClient } from '../redis/create-redis';
import { checkRedis } from '../redis/check-redis';
import { REDIS } from './tokens';

/** Liveness of a worker process: it answers, and its Redis answers; readiness adds its embedding generation. */
@Controller()
export class WorkerHealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly generations: GenerationWatch,
  ) {}

  @Get('healthz')
  async health(): Promise<{ status: 'ok'; pid: number }> {
    try {
      await checkRedis(this.redis);
    } catch (err) {
      throw new ServiceUnavailableException(`redis unreachable: ${(err as Error).message}`);
    }
    return { status: 'ok', pid: process.pid };
  }

  /** As /healthz, and `embedding`: the active generation, or that EMBEDDING_* differs from it (reported, not a failure). */
  @Get('readyz')
  async ready(): Promise<{ status: 'ready'; checks: { redis: 'ok'; embedding: string } }> {
    await this.health();
    return { status: 'ready', checks: { redis: 'ok', embedding: this.generations.check() } };
  }
}
