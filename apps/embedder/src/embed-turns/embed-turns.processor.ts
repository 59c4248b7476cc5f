import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { EmbedTurnJob, EmbedTurnResult, Metrics, QUEUES } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { workerOptions } from '@app/memory/queues/worker-options';
import { EmbedTurnsService } from './embed-turns.service';

@Processor(QUEUES.embed, workerOptions(QUEUES.embed))
export class EmbedTurnsProcessor extends WorkerHost {
  constructor(
    private readonly embedTurns: EmbedTurnsService,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  async process(job: Job<EmbedTurnJob, EmbedTurnResult>): Promise<EmbedTurnResult> {
    return runJob(this.metrics, QUEUES.embed, job, () => this.embedTurns.embedTurn(job.data));
  }
}
