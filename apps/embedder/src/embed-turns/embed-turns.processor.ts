import { Processor } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { EmbedTurnJob, EmbedTurnResult, JOBS, MemoryStore, Metrics, QUEUES, ReindexJob, ReindexResult } from '@app/memory';
import { ReplyingWorkerHost } from '@app/memory/nest/replying-worker-host';
import { ReplyChannel } from '@app/memory/queues/reply-channel';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { ReindexBatchService } from '../reindex/reindex-batch.service';
import { EmbedTurnsService } from './embed-turns.service';

type EmbedQueueJob = Job<EmbedTurnJob, EmbedTurnResult, typeof JOBS.embedTurn> | Job<ReindexJob, ReindexResult, typeof JOBS.reindex>;

/** The embed queue's worker: turns (a waited one answers its waiter), and (at a lower priority) re-index batches. */
@Processor(QUEUES.embed, workerOptions(QUEUES.embed))
export class EmbedTurnsProcessor extends ReplyingWorkerHost {
  private readonly logger = new Logger('EmbedTurns');

  constructor(
    private readonly embedTurns: EmbedTurnsService,
    private readonly reindex: ReindexBatchService,
    private readonly store: MemoryStore,
    private readonly metrics: Metrics,
    protected readonly replies: ReplyChannel,
  ) {
    super();
  }

  async process(job: EmbedQueueJob): Promise<EmbedTurnResult | ReindexResult> {
    if (job.name === JOBS.reindex) {
      const data = job.data as ReindexJob;
      return runJob(this.metrics, QUEUES.embed, job, () => this.reindex.run(data));
    }
    const data = job.data as EmbedTurnJob;
    // A turn that failed for good no longer counts against its tenant's queue bound. The count is a bound that
    // expires on its own, so a failure to update it is logged, and the job fails with its own reason.
    const giveUp = () =>
      this.store.release(data.tenant, 1).catch((err: Error) => this.logger.warn(`queue count of ${data.tenant} not released: ${err.message}`));
    const embedTurn = async () => {
      const result = await this.embedTurns.embedTurn(data);
      await this.replies.result(job, result);
      return result;
    };
    return runJob(this.metrics, QUEUES.embed, job, embedTurn, giveUp);
  }
}
