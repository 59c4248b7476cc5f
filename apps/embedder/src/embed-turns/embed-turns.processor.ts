import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { EmbedTurnJob, EmbedTurnResult, MemoryStore, Metrics, QUEUES } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { EmbedTurnsService } from './embed-turns.service';

@Processor(QUEUES.embed, workerOptions(QUEUES.embed))
export class EmbedTurnsProcessor extends WorkerHost {
  private readonly logger = new Logger('EmbedTurns');

  constructor(
    private readonly embedTurns: EmbedTurnsService,
    private readonly store: MemoryStore,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  async process(job: Job<EmbedTurnJob, EmbedTurnResult>): Promise<EmbedTurnResult> {
    // A turn that failed for good no longer counts against its tenant's queue bound. The count is a bound that
    // expires on its own, so a failure to update it is logged, and the job fails with its own reason.
    const giveUp = () =>
      this.store.release(job.data.tenant, 1).catch((err: Error) => this.logger.warn(`queue count of ${job.data.tenant} not released: ${err.message}`));
    return runJob(this.metrics, QUEUES.embed, job, () => this.embedTurns.embedTurn(job.data), giveUp);
  }
}
