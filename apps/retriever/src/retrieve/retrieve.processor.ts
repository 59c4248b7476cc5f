import { Processor } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { Metrics, QUEUES, RetrieveJob } from '@app/memory';
import { ReplyingWorkerHost } from '@app/memory/nest/replying-worker-host';
import { ReplyChannel } from '@app/memory/queues/reply-channel';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { RetrieveService } from './retrieve.service';

@Processor(QUEUES.retrieve, workerOptions(QUEUES.retrieve))
export class RetrieveProcessor extends ReplyingWorkerHost {
  constructor(
    private readonly retrieval: RetrieveService,
    protected readonly replies: ReplyChannel,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  /** The result goes to the waiting API replica's channel, not into the job or the events stream (it holds memory contents). */
  async process(job: Job<RetrieveJob, void>): Promise<void> {
    await runJob(this.metrics, QUEUES.retrieve, job, async () => this.replies.result(job, await this.retrieval.retrieve(job.data)));
  }
}
