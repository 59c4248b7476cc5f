import { Injectable, OnModuleInit } from '@nestjs/common';
import { GenerationStore, Metrics, reindexStatus } from '@app/memory';

/** The re-index's total and remaining, read from Redis at scrape time (the embedders count the re-embedded). */
@Injectable()
export class ReindexProgressGauge implements OnModuleInit {
  constructor(
    private readonly generations: GenerationStore,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(async () => {
      const record = await this.generations.read();
      const status = record && reindexStatus(record);
      this.metrics.setReindexProgress(status?.state === 'building' ? status.total : 0, status?.remaining ?? 0);
    });
  }
}
