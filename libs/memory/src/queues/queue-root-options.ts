import type { QueueOptions } from 'bullmq';
import type { MemoryConfig } from '../config/memory-config';
import { createQueueConnection } from '../redis/create-redis';
import { redisEndpoint } from '../redis/redis-endpoint';
import { defaultJobOptions, EVENTS_MAX_LEN } from './job-options';

/**
 * BullMQ's options shared by an app's queues (its root connection, job defaults, event stream length); the queues add
 * their prefixes (see registerQueues). Workers block on Redis and must wait through reconnects and stalls; the API's
 * queues fail fast and answer 503.
 */
export function queueRootOptions(config: MemoryConfig, failFast: boolean): Pick<QueueOptions, 'connection' | 'defaultJobOptions' | 'streams'> {
  return {
    connection: createQueueConnection(redisEndpoint(config), failFast, config.REDIS_COMMAND_TIMEOUT_MS),
    defaultJobOptions: defaultJobOptions(config.JOB_ATTEMPTS),
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  };
}
