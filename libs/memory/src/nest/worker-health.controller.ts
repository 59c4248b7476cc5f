import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import type { RedisClient } from '../redis/create-redis';
import { checkRedis } from '../redis/check-redis';
import { REDIS } from './tokens';

/** Liveness of a worker process: it answers, and its Redis answers. */
@Controller()
export class WorkerHealthController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Get('healthz')
  async health(): Promise<{ status: 'ok'; pid: number }> {
    try {
      await checkRedis(this.redis);
    } catch (err) {
      throw new ServiceUnavailableException(`redis unreachable: ${(err as Error).message}`);
    }
    return { status: 'ok', pid: process.pid };
  }
}
