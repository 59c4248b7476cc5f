import { Job, UnrecoverableError } from 'bullmq';
import type { Metrics } from '../metrics/metrics';
import { startTimer } from '../metrics/timer';
import type { QueueName } from './job-contracts';
import { toJobError } from './to-job-error';

/**
 * Runs one attempt of a job: records queue wait, processing time and the outcome, and turns permanent
 * failures into UnrecoverableError so BullMQ fails them at once instead of retrying. `onGiveUp` runs when this
 * attempt is the job's last; the job still fails with its own error.
 */
export async function runJob<T>(metrics: Metrics, queue: QueueName, job: Job, run: () => Promise<T>, onGiveUp?: () => Promise<void>): Promise<T> {
  if (job.processedOn) metrics.observeQueueWait(queue, Math.max(0, job.processedOn - job.timestamp) / 1000);
  const elapsed = startTimer();
  try {
    const result = await run();
    metrics.countJob(queue, 'completed');
    return result;
  } catch (err) {
    const jobError = toJobError(err);
    const willRetry = !(jobError instanceof UnrecoverableError) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    metrics.countJob(queue, willRetry ? 'retried' : 'failed');
    if (!willRetry) await onGiveUp?.();
    throw jobError;
  } finally {
    metrics.observeJobDuration(queue, elapsed());
  }
}
