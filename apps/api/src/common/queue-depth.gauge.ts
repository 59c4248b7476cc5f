import { Injectable, OnModuleInit } from '@nestjs/common';
import { Metrics, QUEUES } from '@app/memory';
import { JobGateway } from './job-gateway';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** Reads queue depths from Redis at scrape time, so the gauge is never stale. */
@Injectable()
export class QueueDepthGauge implements OnModuleInit {
  constructor(
    private readonly jobs: JobGateway,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(async () => {
      for (const queue of Object.values(QUEUES)) {
        const counts = await this.jobs.queue(queue).getJobCounts(...[...STATES]);
        this.metrics.setQueueJobs(queue, { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 });
      }
    });
  }
}
