import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { Metrics, QUEUES, RetrieveJob, RetrieveResult } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { RetrieveService } from './retrieve.service';

@Processor(QUEUES.retrieve, workerOptions(QUEUES.retrieve))
export class RetrieveProcessor extends WorkerHost {
  constructor(
    private readonly retrieval: RetrieveService,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  async process(job: Job<RetrieveJob, RetrieveResult>): Promise<RetrieveResult> {
    return runJob(this.metrics, QUEUES.retrieve, job, () => this.retrieval.retrieve(job.data));
  }
}
