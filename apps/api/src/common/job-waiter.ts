import type { QueueEvents } from 'bullmq';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';

export interface PendingJob<T> {
  result: Promise<T>;
  /** Stops waiting (the job could not be added); the result then never settles. */
  cancel(): void;
}

/**
 * Waits for jobs through one QueueEvents stream. A wait is registered before its job is added, so no completion can
 * slip by unseen, which is what lets completed jobs be removed at once (job.waitUntilFinished would read a removed
 * job as failed). The deadline is the caller's: it covers the time spent before the job was added.
 */
export class JobWaiter {
  /** QueueEvents emits `completed:<jobId>` and `failed:<jobId>`, which its typed listener map does not name. */
  private readonly events: NodeJS.EventEmitter;

  constructor(
    events: QueueEvents,
    private readonly queue: string,
  ) {
    this.events = events as unknown as NodeJS.EventEmitter;
    // Every request in flight listens here: many at once is normal.
    this.events.setMaxListeners(0);
  }

  expect<T>(jobId: string, deadline: number, timeoutMs: number): PendingJob<T> {
    let settle: (() => void) | undefined;
    const result = new Promise<T>((resolve, reject) => {
      const completed = `completed:${jobId}`;
      const failed = `failed:${jobId}`;
      const onCompleted = ({ returnvalue }: { returnvalue: T }) => {
        settle?.();
        resolve(returnvalue);
      };
      const onFailed = ({ failedReason }: { failedReason: string }) => {
        settle?.();
        reject(new JobFailedError(this.queue, failedReason));
      };
      const timer = setTimeout(() => {
        settle?.();
        reject(new JobTimeoutError(this.queue, timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      settle = () => {
        clearTimeout(timer);
        this.events.off(completed, onCompleted);
        this.events.off(failed, onFailed);
      };
      this.events.on(completed, onCompleted);
      this.events.on(failed, onFailed);
    });
    return { result, cancel: () => settle?.() };
  }
}
