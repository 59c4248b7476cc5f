import type { WorkerOptions } from 'bullmq';
import { processConfig } from '../config/load-config';
import { QUEUES, type QueueName } from './job-contracts';

/**
 * BullMQ worker settings for @Processor(), which takes them when the class is declared: they come from
 * the process's validated config. Many embed jobs in flight at once is what lets the micro-batcher batch.
 */
export function workerOptions(queue: QueueName): Partial<WorkerOptions> {
  const c = processConfig();
  return {
    concurrency: { [QUEUES.embed]: c.EMBED_CONCURRENCY, [QUEUES.retrieve]: c.RETRIEVE_CONCURRENCY, [QUEUES.extract]: c.EXTRACT_CONCURRENCY }[queue],
    lockDuration: c.JOB_LOCK_MS,
    stalledInterval: c.JOB_STALLED_INTERVAL_MS,
  };
}
