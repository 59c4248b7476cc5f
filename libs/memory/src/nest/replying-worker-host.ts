import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Replied } from '../queues/job-contracts';
import type { ReplyChannel } from '../queues/reply-channel';

/**
 * A worker whose jobs an API replica may wait for. process() sends a waited job's result itself (ReplyChannel.result),
 * so a result that cannot be sent fails the attempt and BullMQ retries it. A job that fails for good
 * (UnrecoverableError, or its last attempt) sends its reason; an attempt that will be retried sends nothing.
 */
export abstract class ReplyingWorkerHost extends WorkerHost {
  private readonly replyLogger = new Logger('Replies');
  protected abstract readonly replies: ReplyChannel;

  @OnWorkerEvent('failed')
  onFailed(job: Job<Replied> | undefined): void {
    // BullMQ sets finishedOn only when it moves the job to failed; a retry (which clears it) leaves it unset.
    if (!job?.finishedOn) return;
    // Nothing to retry here: the job has failed already. Unsent, its waiter ends in the job timeout.
    this.replies.failed(job, job.failedReason).catch((err: Error) => this.replyLogger.warn(`failure of job ${job.id} not sent to its waiter: ${err.message}`));
  }
}
