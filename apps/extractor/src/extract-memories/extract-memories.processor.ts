import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { ExtractJob, ExtractResult, Metrics, QUEUES } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { ExtractMemoriesService } from './extract-memories.service';

@Processor(QUEUES.extract, workerOptions(QUEUES.extract))
export class ExtractMemoriesProcessor extends WorkerHost {
  constructor(
    private readonly extractMemories: ExtractMemoriesService,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  process(job: Job<ExtractJob, ExtractResult>): Promise<ExtractResult> {
    return runJob(this.metrics, QUEUES.extract, job, () => this.extractMemories.extract(job.data));
  }
}
