import { getSharedConfigToken } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { RedisClient } from '../redis/create-redis';
import { REDIS } from './tokens';

/**
 * Closes the shared client and BullMQ's shared connection after everything that uses them (workers, queues) has
 * shut down: BullMQ closes the connections it duplicated, never one it was given.
 */
@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(getSharedConfigToken()) private readonly bull: { connection: RedisClient },
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.redis, this.bull.connection].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
