import { Queue } from 'bullmq';
import { QUEUES, type QueueName } from '@app/memory/queues/job-contracts';
import { waitUntil } from './wait-until';

/** The stack's BullMQ queues, seen from the test (same prefix as the apps: `${KEY_PREFIX}-bull`). */
export class QueueProbe {
  readonly queues: Record<QueueName, Queue>;

  constructor(redisUrl: string, keyPrefix = 'mem') {
    const opts = { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix: `${keyPrefix}-bull` };
    this.queues = { embed: new Queue(QUEUES.embed, opts), retrieve: new Queue(QUEUES.retrieve, opts) };
  }

  /** Jobs not finished yet: waiting, active, delayed (backing off) or prioritized. */
  async pending(name: QueueName): Promise<number> {
    const c = await this.queues[name].getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async failed(name: QueueName): Promise<number> {
    return this.queues[name].getFailedCount();
  }

  /** Reasons of the failed jobs, e.g. to show why turns were lost. */
  async failedReasons(name: QueueName, n = 5): Promise<string[]> {
    return (await this.queues[name].getFailed(0, n - 1)).map((j) => `${j.id}: ${j.failedReason}`);
  }

  async drained(name: QueueName, timeoutMs: number, detail?: () => string): Promise<void> {
    await waitUntil(`the ${name} queue has no pending jobs`, async () => (await this.pending(name)) === 0, timeoutMs, detail);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
