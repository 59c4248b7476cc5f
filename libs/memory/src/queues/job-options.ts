import type { DefaultJobOptions } from 'bullmq';

/** Retries with exponential backoff; finished jobs are kept for a bounded time so dedup by job id still works a while. */
export function defaultJobOptions(attempts: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 200 },
    removeOnComplete: { age: 3600, count: 100_000 },
    removeOnFail: { age: 24 * 3600, count: 100_000 },
  };
}
