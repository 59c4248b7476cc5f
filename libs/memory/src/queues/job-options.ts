import type { DefaultJobOptions } from 'bullmq';

/**
 * Retries with exponential backoff. Completed jobs are removed at once: they hold turn contents and queries, the
 * store (not the queue) keeps writes idempotent, and a waited job's result goes to the waiting API replica's channel,
 * which it subscribed to before adding. Failed jobs are kept a day for inspection, and so that a client resending the turn
 * revives the same job; a session delete removes its own.
 */
export function defaultJobOptions(attempts: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: 200 },
    removeOnComplete: true,
    removeOnFail: { age: 24 * 3600, count: 100_000 },
  };
}

/** BullMQ writes every job's events to a stream that the service does not read (its replies go by pub/sub): kept short. */
export const EVENTS_MAX_LEN = 10_000;

/** BullMQ's largest priority (runs last): a re-index's batches, behind every turn of every tenant. */
export const LOWEST_PRIORITY = 2_097_151;
