import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from './tokens';

/** Liveness of a worker process: it answers, and its Redis answers. */
@Controller()
export class WorkerHealthController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  @Get('healthz')
  async health(): Promise<{ status: 'ok'; pid: number }> {
    try {
      await this.redis.ping();
    } catch (err) {
      throw new ServiceUnavailableException(`redis unreachable: ${(err as Error).message}`);
    }
    return { status: 'ok', pid: process.pid };
  }
}
