import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { VectorIndex } from '@app/memory';
import { Metrics } from '@app/memory';
import { VECTOR_INDEX } from '@app/memory/nest/tokens';

/** Publishes the index's backend, size and lag as metrics, and closes the index at shutdown. */
@Injectable()
export class VectorIndexCloser implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.metrics.setVectorBackend(this.index.backend);
    this.metrics.onScrape(async () => this.metrics.setIndexVectors(await this.index.size()));
    this.metrics.onScrape(async () => this.metrics.setIndexLag(this.index.backend, (await this.index.lag?.()) ?? 0));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.index.close();
  }
}
