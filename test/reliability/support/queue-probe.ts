import { Queue } from 'bullmq';
import { loadConfig } from '@app/memory/config/load-config';
import { QUEUES, type QueueName } from '@app/memory/queues/job-contracts';
import { queuePrefix } from '@app/memory/queues/queue-prefix';
import { createQueueConnection, type RedisClient } from '@app/memory/redis/create-redis';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { type RedisTarget, targetEnv } from '../../support/test-redis';
import { waitUntil } from './wait-until';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** The stack's BullMQ queues, seen from the test (same connection kind and prefixes as the apps). */
export class QueueProbe {
  readonly queues: Record<QueueName, Queue>;
  private readonly connection: RedisClient;

  constructor(redis: RedisTarget, keyPrefix = 'mem') {
    const config = loadConfig({ ...targetEnv(redis), KEY_PREFIX: keyPrefix });
    this.connection = createQueueConnection(redisEndpoint(config), false);
    const queue = (name: QueueName) => new Queue(name, { connection: this.connection, prefix: queuePrefix(config, name) });
    this.queues = { embed: queue(QUEUES.embed), retrieve: queue(QUEUES.retrieve), extract: queue(QUEUES.extract) };
    // A Queue with no 'error' listener prints each connection error with its stack: one per reconnect attempt while
    // a test keeps Redis down on purpose. Those are expected; anything else is still printed, and a probe call
    // made while Redis is down still rejects.
    for (const q of Object.values(this.queues)) {
      q.on('error', (err: NodeJS.ErrnoException) => {
        if (!CONNECTION_ERRORS.has(err.code ?? '')) console.error(err);
      });
    }
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
    this.connection.disconnect();
  }
}
