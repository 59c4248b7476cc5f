import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { ExtractJob, ExtractResult, JOBS, Metrics, QUEUES, SummariseResult } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { SummariseSessionService } from '../summarise-session/summarise-session.service';
import { ExtractMemoriesService } from './extract-memories.service';

/** The extract queue's one worker: a session's extractions and its summary updates (both name only the session). */
@Processor(QUEUES.extract, workerOptions(QUEUES.extract))
export class ExtractMemoriesProcessor extends WorkerHost {
  constructor(
    private readonly extractMemories: ExtractMemoriesService,
    private readonly summaries: SummariseSessionService,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  process(job: Job<ExtractJob, ExtractResult | SummariseResult>): Promise<ExtractResult | SummariseResult> {
    const run = (): Promise<ExtractResult | SummariseResult> =>
      job.name === JOBS.summarise ? this.summaries.summarise(job.data) : this.extractMemories.extract(job.data);
    return runJob(this.metrics, QUEUES.extract, job, run);
  }
}
