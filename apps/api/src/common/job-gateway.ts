import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '@app/memory/nest/tokens';
import { Job, Queue, QueueEvents } from 'bullmq';
import {
  EmbedTurnJob,
  EmbedTurnResult,
  JobMap,
  JOBS,
  MemoryConfig,
  QueueName,
  QUEUES,
  RetrieveJob,
  RetrieveResult,
  embedJobId,
} from '@app/memory';
import { JobFailedError } from './job-failed.error';
import { JobTimeoutError } from './job-timeout.error';

/** The API's only way to the workers: enqueue jobs and wait for their results through QueueEvents. */
@Injectable()
export class JobGateway implements OnApplicationShutdown {
  private readonly events: Record<QueueName, QueueEvents>;

  constructor(
    @InjectQueue(QUEUES.embed) private readonly embedQueue: Queue<EmbedTurnJob, EmbedTurnResult>,
    @InjectQueue(QUEUES.retrieve) private readonly retrieveQueue: Queue<RetrieveJob, RetrieveResult>,
    private readonly config: MemoryConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    const opts = { connection: { url: config.REDIS_URL }, prefix: embedQueue.opts.prefix };
    // Every request waiting on a job listens for the queue's 'closing' event: many at once is normal here.
    embedQueue.setMaxListeners(0);
    retrieveQueue.setMaxListeners(0);
    this.events = { embed: new QueueEvents(QUEUES.embed, opts), retrieve: new QueueEvents(QUEUES.retrieve, opts) };
  }

  queue(name: QueueName): Queue {
    return name === QUEUES.embed ? this.embedQueue : this.retrieveQueue;
  }

  /**
   * Enqueues turns under deterministic job ids: a turn id enqueued twice is one job. When the ids may be
   * resent (client ids), a turn whose job had failed for good (and is kept for inspection under the same id)
   * is retried instead of silently ignored.
   */
  async enqueueTurns(turns: EmbedTurnJob[], mayBeResent: boolean): Promise<Job<EmbedTurnJob, EmbedTurnResult>[]> {
    const jobs = await this.embedQueue.addBulk(
      turns.map((data) => ({ name: JOBS.embedTurn, data, opts: { jobId: embedJobId(data.tenant, data.session, data.turnId) } })),
    );
    if (!mayBeResent) return jobs;
    const failed = this.redis.pipeline();
    for (const job of jobs) failed.zscore(this.embedQueue.keys.failed, job.id!);
    const scores = (await failed.exec()) ?? [];
    await Promise.all(jobs.filter((_, i) => scores[i][1] !== null).map((job) => retryFailed(job)));
    return jobs;
  }

  async writeTurns(turns: EmbedTurnJob[], mayBeResent: boolean): Promise<EmbedTurnResult[]> {
    return this.withinJobTimeout(QUEUES.embed, async () => {
      const jobs = await this.enqueueTurns(turns, mayBeResent);
      return Promise.all(jobs.map((job) => this.waitFor<typeof JOBS.embedTurn>(QUEUES.embed, job)));
    });
  }

  async retrieve(data: RetrieveJob): Promise<RetrieveResult> {
    return this.withinJobTimeout(QUEUES.retrieve, async () =>
      this.waitFor<typeof JOBS.retrieve>(QUEUES.retrieve, await this.retrieveQueue.add(JOBS.retrieve, data)),
    );
  }

  /** JOB_TIMEOUT_MS from the call, not from the enqueueing: a slow Redis makes adding the job slow too. */
  private async withinJobTimeout<T>(queue: QueueName, run: () => Promise<T>): Promise<T> {
    const timeout = this.config.JOB_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobTimeoutError(queue, timeout)), timeout);
    });
    try {
      return await Promise.race([run(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async waitFor<N extends keyof JobMap>(queue: QueueName, job: Job): Promise<JobMap[N]['result']> {
    // BullMQ's own ttl only removes its listeners; withinJobTimeout decides, a little earlier.
    return job.waitUntilFinished(this.events[queue], this.config.JOB_TIMEOUT_MS + 1000).catch((err: Error) => {
      throw new JobFailedError(queue, err.message);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(Object.values(this.events).map((e) => e.close()));
  }
}

/** A concurrent request may have retried the same failed job first: then there is nothing left to do. */
async function retryFailed(job: Job): Promise<void> {
  try {
    await job.retry('failed');
  } catch (err) {
    if (!/is not in the failed state/.test((err as Error).message)) throw err;
  }
}
