import type { Job } from 'bullmq';
import type { RedisClient } from '../redis/create-redis';
import type { Replied } from './job-contracts';

/** What a worker sends to the API replica that waits for a job: its result, or why it failed for good. */
export type JobReply = { jobId: string; result: unknown } | { jobId: string; failedReason: string };

/**
 * How a waited job's outcome reaches the API replica that waits for it: one message on that replica's own channel
 * (its `replyTo`), with the result in it. Only jobs whose data names a `replyTo` are answered: jobs nobody waits for
 * cost the API nothing. Plain PUBLISH, so on a cluster a subscriber connected to any node hears it. A message sent
 * while the replica reconnects is lost: its wait ends in the job timeout.
 */
export class ReplyChannel {
  constructor(private readonly redis: RedisClient) {}

  async result(job: Job<Replied>, result: unknown): Promise<void> {
    await this.send(job, { jobId: job.id!, result });
  }

  async failed(job: Job<Replied>, failedReason: string): Promise<void> {
    await this.send(job, { jobId: job.id!, failedReason });
  }

  private async send(job: Job<Replied>, reply: JobReply): Promise<void> {
    if (job.data.replyTo) await this.redis.publish(job.data.replyTo, JSON.stringify(reply));
  }
}
