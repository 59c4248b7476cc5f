import { BullModule } from '@nestjs/bullmq';
import type { DynamicModule } from '@nestjs/common';
import { MemoryConfig } from '../config/memory-config';
import type { QueueName } from '../queues/job-contracts';
import { queuePrefix } from '../queues/queue-prefix';
import { createQueueConnection } from '../redis/create-redis';
import { redisEndpoint } from '../redis/redis-endpoint';

/**
 * The app's BullMQ queues, each under its own prefix (a hash tag on a cluster); their workers take the same. The
 * queues named in `ownConnection` get a fail-fast connection of their own instead of the shared one (the API's retrieve
 * queue: commands on one socket answer in order, so a tenant's bulk adds to the embed queue delayed every search).
 */
export const registerQueues = (names: QueueName[], ownConnection: QueueName[] = []): DynamicModule =>
  BullModule.registerQueueAsync(
    ...names.map((name) => ({
      name,
      inject: [MemoryConfig],
      useFactory: (c: MemoryConfig) => ({
        prefix: queuePrefix(c, name),
        ...(ownConnection.includes(name) && { connection: createQueueConnection(redisEndpoint(c), true, c.REDIS_COMMAND_TIMEOUT_MS), forceDisconnectOnShutdown: true }),
      }),
    })),
  );
