import { Injectable, OnModuleInit } from '@nestjs/common';
import { Metrics, QUEUE_STATES, QUEUES, type QueueState } from '@app/memory';
import { JobGateway } from './job-gateway';

/** Reads queue depths from Redis at scrape time, so the gauge is never stale. */
@Injectable()
export class QueueDepthGauge implements OnModuleInit {
  constructor(
    private readonly jobs: JobGateway,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    // In parallel: a scrape during a Redis stall waits one REDIS_COMMAND_TIMEOUT_MS, not one per queue.
    this.metrics.onScrape(async () => {
      await Promise.all(
        Object.values(QUEUES).map(async (queue) => {
          const counts = await this.jobs.queue(queue).getJobCounts(...QUEUE_STATES, 'prioritized');
          const depth = Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as Record<QueueState, number>;
          // A flooding tenant's jobs wait in BullMQ's prioritized set (see embedPriority): waiting all the same.
          depth.waiting += counts.prioritized ?? 0;
          this.metrics.setQueueJobs(queue, depth);
        }),
      );
    });
  }
}
