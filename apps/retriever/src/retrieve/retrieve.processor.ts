import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { MemoryConfig, Metrics, QUEUES, RetrieveJob } from '@app/memory';
import { ReplyChannel } from '@app/memory/queues/reply-channel';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { RetrieveService } from './retrieve.service';

@Processor(QUEUES.retrieve, workerOptions(QUEUES.retrieve))
export class RetrieveProcessor extends WorkerHost {
  constructor(
    private readonly retrieval: RetrieveService,
    private readonly replies: ReplyChannel,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {
    super();
  }

  /** The result goes to the job's reply key (read once by the API), not into the job or the events stream. */
  async process(job: Job<RetrieveJob, void>): Promise<void> {
    await runJob(this.metrics, QUEUES.retrieve, job, async () =>
      this.replies.put(job.id!, await this.retrieval.retrieve(job.data), this.config.JOB_TIMEOUT_MS),
    );
  }
}
