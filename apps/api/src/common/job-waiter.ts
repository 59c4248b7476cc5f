import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Job, type Queue } from 'bullmq';
import { QUEUES } from '@app/memory';
import { duplicateForBlocking, type RedisClient } from '@app/memory/redis/create-redis';
import type { KeySchema } from '@app/memory/redis/key-schema';
import { retryStartup } from '@app/memory/redis/retry-startup';
import type { JobReply } from '@app/memory/queues/reply-channel';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';
import { ReplyLostError } from './reply-lost.error';

export interface PendingJob<T> {
  result: Promise<T>;
  /** Stops waiting (the job could not be added); the result then never settles. */
  cancel(): void;
  /** The job is in Redis: from now on a reconnect of the reply channel looks at its state (see JobWaiter). */
  added(): void;
}

interface Wait {
  queue: Queue;
  added: boolean;
  timer: NodeJS.Timeout;
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/** The error of a job found failed for good, with its reason. */
const failedJob = async (queue: Queue, jobId: string) => new JobFailedError(queue.name, (await Job.fromId(queue, jobId))?.failedReason ?? 'unknown');

/** How often watch() looks at a job's state. */
const WATCH_INTERVAL_MS = 100;

/**
 * Waits for jobs through this API replica's own reply channel (see ReplyChannel): one subscription, made before any
 * job is added, and the waits by job id (embed and retrieve job ids never look alike). A wait is registered before
 * its job is added, so no reply can come before it is expected, which is what lets completed jobs be removed at once.
 * A reply sent while the subscription reconnects is lost: once subscribed again, each wait whose job is in Redis looks
 * at its state (see recover). The deadline is the caller's: it covers the time spent before the job was added.
 */
export class JobWaiter {
  private readonly logger = new Logger('JobWaiter');
  /** The channel that a waited job's data names as its `replyTo`. */
  readonly address: string;
  private readonly waits = new Map<string, Wait>();
  /** Subscribed, so a connection of its own; it waits through reconnects, and resubscribes after one. */
  private readonly subscriber: RedisClient;
  private subscribed = false;

  constructor(redis: RedisClient, keys: KeySchema) {
    this.address = keys.replies(randomUUID());
    this.subscriber = duplicateForBlocking(redis, 'agent-memory:replies');
    this.subscriber.on('message', (_channel: string, message: string) => this.settle(JSON.parse(message) as JobReply));
    this.subscriber.on('ready', () => {
      if (this.subscribed) this.recover().catch((err: Error) => this.logger.warn(`waits not checked after the reconnect: ${err.message}`));
    });
  }

  async start(): Promise<void> {
    await retryStartup('subscribing to the reply channel', () => this.subscriber.subscribe(this.address), this.logger);
    this.subscribed = true;
  }

  close(): void {
    this.subscriber.disconnect();
  }

  expect<T>(queue: Queue, jobId: string, deadline: number, timeoutMs: number): PendingJob<T> {
    let wait: Wait | undefined;
    const result = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.take(jobId)?.reject(new JobTimeoutError(queue.name, timeoutMs)), Math.max(0, deadline - Date.now()));
      wait = { queue, added: false, timer, resolve: resolve as (result: unknown) => void, reject };
      this.waits.set(jobId, wait);
    });
    // Its caller may await it only later (a chat awaits its turns' storage after the LLM's answer): a failure that
    // comes first must wait for it, not end the process as an unhandled rejection. Awaiting it still throws.
    result.catch(() => undefined);
    return { result, cancel: () => void this.take(jobId), added: () => void (wait!.added = true) };
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
      if (state === 'failed') throw await failedJob(queue, jobId);
      const left = deadline - Date.now();
      if (left <= 0) throw new JobTimeoutError(queue.name, timeoutMs);
      await sleep(Math.min(WATCH_INTERVAL_MS, left));
    }
  }

  /**
   * After a reconnect (ioredis resubscribes; subscribing again here is ordered after it on the same connection, so
   * every reply sent from then on arrives): a job that finished while the channel was down sent its reply to nobody.
   * Its state tells: an embed job gone or completed is done (its result is not needed), a retrieve job's result is
   * lost (503: retry the search), a failed job failed for good. Without this such a wait ended in the job timeout.
   */
  private async recover(): Promise<void> {
    await this.subscriber.subscribe(this.address);
    const waits = [...this.waits].filter(([, wait]) => wait.added);
    await Promise.all(
      waits.map(async ([jobId, { queue }]) => {
        const state = await queue.getJobState(jobId);
        if (state === 'failed') this.take(jobId)?.reject(await failedJob(queue, jobId));
        else if (state === 'unknown' || state === 'completed') {
          if (queue.name === QUEUES.embed) this.take(jobId)?.resolve(undefined);
          else this.take(jobId)?.reject(new ReplyLostError(queue.name));
        }
      }),
    );
  }

  private settle(reply: JobReply): void {
    // A reply whose wait has timed out, or been cancelled, has nobody to go to.
    const wait = this.take(reply.jobId);
    if (!wait) return;
    if ('failedReason' in reply) wait.reject(new JobFailedError(wait.queue.name, reply.failedReason));
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
