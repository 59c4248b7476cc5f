import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Job, type Queue } from 'bullmq';
import { duplicateForBlocking, type RedisClient } from '@app/memory/redis/create-redis';
import type { KeySchema } from '@app/memory/redis/key-schema';
import { retryStartup } from '@app/memory/redis/retry-startup';
import type { JobReply } from '@app/memory/queues/reply-channel';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';

export interface PendingJob<T> {
  result: Promise<T>;
  /** Stops waiting (the job could not be added); the result then never settles. */
  cancel(): void;
}

interface Wait {
  queue: string;
  timer: NodeJS.Timeout;
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/** How often watch() looks at a job's state. */
const WATCH_INTERVAL_MS = 100;

/**
 * Waits for jobs through this API replica's own reply channel (see ReplyChannel): one subscription, made before any
 * job is added, and the waits by job id (embed and retrieve job ids never look alike). A wait is registered before
 * its job is added, so no reply can come before it is expected, which is what lets completed jobs be removed at once.
 * A reply lost while the subscription reconnects ends in the job timeout. The deadline is the caller's: it covers
 * the time spent before the job was added.
 */
export class JobWaiter {
  private readonly logger = new Logger('JobWaiter');
  /** The channel that a waited job's data names as its `replyTo`. */
  readonly address: string;
  private readonly waits = new Map<string, Wait>();
  /** Subscribed, so a connection of its own; it waits through reconnects, and resubscribes after one. */
  private readonly subscriber: RedisClient;

  constructor(redis: RedisClient, keys: KeySchema) {
    this.address = keys.replies(randomUUID());
    this.subscriber = duplicateForBlocking(redis, 'agent-memory:replies');
    this.subscriber.on('message', (_channel: string, message: string) => this.settle(JSON.parse(message) as JobReply));
  }

  async start(): Promise<void> {
    await retryStartup('subscribing to the reply channel', () => this.subscriber.subscribe(this.address), this.logger);
  }

  close(): void {
    this.subscriber.disconnect();
  }

  expect<T>(queue: string, jobId: string, deadline: number, timeoutMs: number): PendingJob<T> {
    const result = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.take(jobId)?.reject(new JobTimeoutError(queue, timeoutMs)), Math.max(0, deadline - Date.now()));
      this.waits.set(jobId, { queue, timer, resolve: resolve as (result: unknown) => void, reject });
    });
    // Its caller may await it only later (a chat awaits its turns' storage after the LLM's answer): a failure that
    // comes first must wait for it, not end the process as an unhandled rejection. Awaiting it still throws.
    result.catch(() => undefined);
    return { result, cancel: () => void this.take(jobId) };
  }

  /**
   * Waits for a job that names no reply address of this replica (one a resent turn found queued or failed, added by a
   * request that did not wait or waits elsewhere) by looking at its state. Completed jobs are removed at once, so one
   * that is no longer there is done (or was removed with its forgotten session); a failed one is failed for good.
   */
  async watch(queue: Queue, jobId: string, deadline: number, timeoutMs: number): Promise<void> {
    for (;;) {
      const state = await queue.getJobState(jobId);
      if (state === 'unknown' || state === 'completed') return;
      if (state === 'failed') throw new JobFailedError(queue.name, (await Job.fromId(queue, jobId))?.failedReason ?? 'unknown');
      const left = deadline - Date.now();
      if (left <= 0) throw new JobTimeoutError(queue.name, timeoutMs);
      await sleep(Math.min(WATCH_INTERVAL_MS, left));
    }
  }

  private settle(reply: JobReply): void {
    // A reply whose wait has timed out, or been cancelled, has nobody to go to.
    const wait = this.take(reply.jobId);
    if (!wait) return;
    if ('failedReason' in reply) wait.reject(new JobFailedError(wait.queue, reply.failedReason));
    else wait.resolve(reply.result);
  }

  /** Ends a wait: it is settled (or given up) once only. */
  private take(jobId: string): Wait | undefined {
    const wait = this.waits.get(jobId);
    if (!wait) return undefined;
    this.waits.delete(jobId);
    clearTimeout(wait.timer);
    return wait;
  }
}
