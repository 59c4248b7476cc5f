import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnModuleInit } from '@nestjs/common';
import { Job } from 'bullmq';
import { MemoryConfig, Metrics, QUEUES, RetrieveJob, RetrieveResult } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { RetrieveService } from './retrieve.service';

@Processor(QUEUES.retrieve)
export class RetrieveProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    private readonly retrieval: RetrieveService,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.RETRIEVE_CONCURRENCY;
  }

  async process(job: Job<RetrieveJob, RetrieveResult>): Promise<RetrieveResult> {
    return runJob(this.metrics, QUEUES.retrieve, job, () => this.retrieval.retrieve(job.data));
  }
}
