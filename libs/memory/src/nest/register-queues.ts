import { BullModule } from '@nestjs/bullmq';
import type { DynamicModule } from '@nestjs/common';
import { MemoryConfig } from '../config/memory-config';
import type { QueueName } from '../queues/job-contracts';
import { queuePrefix } from '../queues/queue-prefix';

/** The app's BullMQ queues, each under its own prefix (a hash tag on a cluster); their workers take the same. */
export const registerQueues = (...names: QueueName[]): DynamicModule =>
  BullModule.registerQueueAsync(
    ...names.map((name) => ({ name, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => ({ prefix: queuePrefix(c, name) }) })),
  );
