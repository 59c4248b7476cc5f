import type { MemoryConfig } from '../config/memory-config';
import type { QueueName } from './job-contracts';

/**
 * BullMQ's key prefix for a queue. BullMQ's scripts touch many keys of a queue at once, so on a cluster its docs
 * require a hash tag in the prefix: one per queue, so the embed and retrieve queues can live on different masters.
 * A single Redis keeps the prefix it always had, so the jobs queued there before an upgrade are still run.
 */
export function queuePrefix(config: Pick<MemoryConfig, 'KEY_PREFIX' | 'REDIS_CLUSTER_NODES'>, queue: QueueName): string {
  return config.REDIS_CLUSTER_NODES ? `{${config.KEY_PREFIX}-bull:${queue}}` : `${config.KEY_PREFIX}-bull`;
}
