import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnModuleInit } from '@nestjs/common';
import { Job } from 'bullmq';
import { EmbedTurnJob, EmbedTurnResult, MemoryConfig, Metrics, QUEUES } from '@app/memory';
import { runJob } from '@app/memory/queues/run-job';
import { EmbedTurnsService } from './embed-turns.service';

@Processor(QUEUES.embed)
export class EmbedTurnsProcessor extends WorkerHost implements OnModuleInit {
  constructor(
    private readonly embedTurns: EmbedTurnsService,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    // Many jobs in flight at once is what lets the micro-batcher form batches.
    this.worker.concurrency = this.config.EMBED_CONCURRENCY;
  }

  async process(job: Job<EmbedTurnJob, EmbedTurnResult>): Promise<EmbedTurnResult> {
    return runJob(this.metrics, QUEUES.embed, job, () => this.embedTurns.embedTurn(job.data));
  }
}
