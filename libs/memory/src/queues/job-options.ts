import type { DefaultJobOptions } from 'bullmq';

/**
 * Retries with exponential backoff. Finished jobs hold turn contents (data, results), so completed ones are
 * kept only a minute (the store's turn-id map, not the queue, is what keeps writes idempotent); failed ones are
 * kept a day, for inspection and so that a client resending the turn revives the same job.
 */
export function defaultJobOptions(attempts: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 200 },
    removeOnComplete: { age: 60, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 100_000 },
  };
}
