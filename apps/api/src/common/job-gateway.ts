import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import type { RedisClient } from '@app/memory/redis/create-redis';
import {
  EmbedTurnJob,
  EmbedTurnResult,
  embedJobId,
  extractDedupId,
  summariseDedupId,
  JOBS,
  KeySchema,
  MemoryConfig,
  QueueName,
  QUEUES,
  RetrieveJob,
  RetrieveResult,
} from '@app/memory';
import { REDIS } from '@app/memory/nest/tokens';
import { JobWaiter, type PendingJob } from './job-waiter';

/** Embed jobs added per MULTI: BullMQ serialises one addBulk in a single go (about 40 ms for 500 jobs under a flood). */
const ADD_CHUNK = 100;

/** A turn to enqueue; `resent` when accept() had seen its id before (its job may exist, or have failed for good). */
export interface TurnJob {
  data: EmbedTurnJob;
  resent: boolean;
}

/** The API's only way to the workers: enqueue jobs and wait for their results, which come to this replica's reply channel. */
@Injectable()
export class JobGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly waiter: JobWaiter;

  constructor(
    @InjectQueue(QUEUES.embed) private readonly embedQueue: Queue<EmbedTurnJob, EmbedTurnResult>,
    @InjectQueue(QUEUES.retrieve) private readonly retrieveQueue: Queue<RetrieveJob, void>,
    @InjectQueue(QUEUES.extract) private readonly extractQueue: Queue,
    private readonly config: MemoryConfig,
    keys: KeySchema,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.waiter = new JobWaiter(redis, keys);
  }

  /** Subscribed before the first job is added: no reply can come before its wait. */
  async onModuleInit(): Promise<void> {
    await this.waiter.start();
  }

  queue(name: QueueName): Queue {
    return { [QUEUES.embed]: this.embedQueue, [QUEUES.retrieve]: this.retrieveQueue, [QUEUES.extract]: this.extractQueue }[name];
  }

  /** The deadline of a request's job waits, counted from now. */
  deadline(): number {
    return Date.now() + this.config.JOB_TIMEOUT_MS;
  }

  /**
   * Enqueues turns under their deterministic job ids; with `deadline`, `stored` settles once they are processed. A
   * resent turn's job may still be queued (then adding is a no-op), gone after completing (then it runs again and
   * finds the turn stored), or failed for good (then it is retried). Only resent turns are looked up among the failed
   * jobs, so a fresh job that fails at once can never be mistaken for an old one. A fresh turn's job is new, so it
   * carries this replica's reply address; a resent turn's job may be one added without it, so it is watched instead
   * (JobWaiter.watch). `priority` is BullMQ's (see embedPriority): none puts the jobs ahead of every prioritized one.
   */
  async enqueueTurns(turns: TurnJob[], deadline?: number, priority?: number): Promise<{ stored?: Promise<unknown> }> {
    const ids = turns.map((t) => embedJobId(t.data.tenant, t.data.session, t.data.seq, t.data.turnId));
    const replies = ids.map((id, i) => (deadline === undefined || turns[i].resent ? undefined : this.waiter.expect(QUEUES.embed, id, deadline, this.config.JOB_TIMEOUT_MS)));
    try {
      const jobs = turns.map((t, i) => ({
        name: JOBS.embedTurn,
        data: replies[i] ? { ...t.data, replyTo: this.waiter.address } : t.data,
        opts: { jobId: ids[i], ...(priority ? { priority } : {}) },
      }));
      // A chunk at a time, each its own MULTI: a request's jobs are idempotent (deterministic ids), so a resend after a
      // failure part-way adds only the rest, and other requests run between the chunks.
      for (let i = 0; i < jobs.length; i += ADD_CHUNK) await this.embedQueue.addBulk(jobs.slice(i, i + ADD_CHUNK));
      await this.retryFailed(ids.filter((_, i) => turns[i].resent));
    } catch (err) {
      replies.forEach((p) => p?.cancel());
      throw err;
    }
    if (deadline === undefined) return {};
    const watched = (id: string) => this.waiter.watch(this.embedQueue, id, deadline, this.config.JOB_TIMEOUT_MS);
    const stored = Promise.all(ids.map((id, i) => replies[i]?.result ?? watched(id)));
    // Awaited by the caller, perhaps only after other work (see JobWaiter.expect): not an unhandled rejection meanwhile.
    stored.catch(() => undefined);
    return { stored };
  }

  /** Runs one retrieval; its result comes in the reply itself. */
  async retrieve(data: RetrieveJob, deadline = this.deadline()): Promise<RetrieveResult> {
    const jobId = `r.${randomUUID()}`;
    const pending: PendingJob<RetrieveResult> = this.waiter.expect(QUEUES.retrieve, jobId, deadline, this.config.JOB_TIMEOUT_MS);
    try {
      await this.retrieveQueue.add(JOBS.retrieve, { ...data, replyTo: this.waiter.address }, { jobId, removeOnFail: { age: 3600 } });
    } catch (err) {
      pending.cancel();
      throw err;
    }
    return pending.result;
  }

  /** Removes queued or failed embed jobs of forgotten turns; returns how many were removed (an active one stays and is dropped when it runs). */
  async removeTurnJobs(tenant: string, session: string, turns: { turnId: string; seq: number }[]): Promise<number> {
    const removed = await Promise.all(turns.map((t) => this.embedQueue.remove(embedJobId(tenant, session, t.seq, t.turnId))));
    return removed.filter((n) => n === 1).length;
  }

  /**
   * Removes the session's queued extraction and summary (found by their deduplication ids); one running finds its
   * watermark moved (or its turns gone) and writes nothing. A failed one names no content (its reason never quotes the
   * LLM's answer) and expires in a day.
   */
  async removeExtractJobs(tenant: string, session: string): Promise<void> {
    const ids = await Promise.all([extractDedupId, summariseDedupId].map((dedup) => this.extractQueue.getDeduplicationJobId(dedup(tenant, session))));
    await Promise.all(ids.map((id) => id && this.extractQueue.remove(id)));
  }

  private async retryFailed(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const scores = await Promise.all(ids.map((id) => this.redis.zscore(this.embedQueue.keys.failed, id)));
    await Promise.all(
      ids
        .filter((_, i) => scores[i] !== null)
        .map(async (id) => {
          const job = await Job.fromId(this.embedQueue, id);
          // A concurrent request may have retried the same failed job first: then there is nothing left to do.
          await job?.retry('failed').catch((err: Error) => {
            if (!/is not in the failed state/.test(err.message)) throw err;
          });
        }),
    );
  }

  onApplicationShutdown(): void {
    this.waiter.close();
  }
}
