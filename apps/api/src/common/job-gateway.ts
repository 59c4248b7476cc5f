import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import { createQueueConnection, type RedisClient } from '@app/memory/redis/create-redis';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { retryStartup } from '@app/memory/redis/retry-startup';
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
import { ReplyChannel } from '@app/memory/queues/reply-channel';
import { REDIS } from '@app/memory/nest/tokens';
import { JobWaiter, type PendingJob } from './job-waiter';

/** A turn to enqueue; `resent` when accept() had seen its id before (its job may exist, or have failed for good). */
export interface TurnJob {
  data: EmbedTurnJob;
  resent: boolean;
}

/** The API's only way to the workers: enqueue jobs and wait for their results through QueueEvents. */
@Injectable()
export class JobGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('JobGateway');
  private readonly replies: ReplyChannel;
  /** QueueEvents block (XREAD), so they need a connection that waits through reconnects; BullMQ duplicates it for each. */
  private readonly eventsConnection: RedisClient;
  /** The API waits for embed and retrieve jobs; extract jobs are the workers' own (it only counts them). */
  private events!: Record<'embed' | 'retrieve', QueueEvents>;
  private waiters!: Record<'embed' | 'retrieve', JobWaiter>;

  constructor(
    @InjectQueue(QUEUES.embed) private readonly embedQueue: Queue<EmbedTurnJob, EmbedTurnResult>,
    @InjectQueue(QUEUES.retrieve) private readonly retrieveQueue: Queue<RetrieveJob, void>,
    @InjectQueue(QUEUES.extract) private readonly extractQueue: Queue,
    private readonly config: MemoryConfig,
    keys: KeySchema,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.replies = new ReplyChannel(redis, keys);
    this.eventsConnection = createQueueConnection(redisEndpoint(config), false);
  }

  /** QueueEvents start reading from the streams' current ends (not from the first read's), so no event after start-up is missed. */
  async onModuleInit(): Promise<void> {
    const listen = async (name: QueueName) => {
      const [last] = await retryStartup(`reading the ${name} queue's events`, () => this.redis.xrevrange(this.queue(name).keys.events, '+', '-', 'COUNT', 1), this.logger);
      const opts = { connection: this.eventsConnection, prefix: this.queue(name).opts.prefix, lastEventId: last?.[0] ?? '0-0' };
      return new QueueEvents(name, opts);
    };
    const [embed, retrieve] = await Promise.all([listen(QUEUES.embed), listen(QUEUES.retrieve)]);
    this.events = { embed, retrieve };
    this.waiters = { embed: new JobWaiter(embed, QUEUES.embed), retrieve: new JobWaiter(retrieve, QUEUES.retrieve) };
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
   * jobs, so a fresh job that fails at once can never be mistaken for an old one. `priority` is BullMQ's (see
   * embedPriority): none puts the jobs ahead of every prioritized one.
   */
  async enqueueTurns(turns: TurnJob[], deadline?: number, priority?: number): Promise<{ stored?: Promise<EmbedTurnResult[]> }> {
    const ids = turns.map((t) => embedJobId(t.data.tenant, t.data.session, t.data.seq, t.data.turnId));
    const pending = deadline === undefined ? [] : ids.map((id) => this.waiters.embed.expect<EmbedTurnResult>(id, deadline, this.config.JOB_TIMEOUT_MS));
    try {
      await this.embedQueue.addBulk(turns.map((t, i) => ({ name: JOBS.embedTurn, data: t.data, opts: { jobId: ids[i], ...(priority ? { priority } : {}) } })));
      await this.retryFailed(ids.filter((_, i) => turns[i].resent));
    } catch (err) {
      pending.forEach((p) => p.cancel());
      throw err;
    }
    return deadline === undefined ? {} : { stored: Promise.all(pending.map((p) => p.result)) };
  }

  /** Runs one retrieval; its result comes through a reply key that is read once and deleted. */
  async retrieve(data: RetrieveJob, deadline = this.deadline()): Promise<RetrieveResult> {
    const jobId = `r.${randomUUID()}`;
    const pending: PendingJob<void> = this.waiters.retrieve.expect(jobId, deadline, this.config.JOB_TIMEOUT_MS);
    try {
      await this.retrieveQueue.add(JOBS.retrieve, data, { jobId, removeOnFail: { age: 3600 } });
    } catch (err) {
      pending.cancel();
      throw err;
    }
    await pending.result;
    const result = await this.replies.take<RetrieveResult>(jobId);
    if (!result) throw new Error(`retrieve job ${jobId} completed without a reply`);
    return result;
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

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(Object.values(this.events ?? {}).map((e) => e.close()));
    this.eventsConnection.disconnect();
  }
}
