import { Logger, Module } from '@nestjs/common';
import type { RedisClient } from '@app/memory/redis/create-redis';
import { ContextAssembler, GenerationalVectorIndex, GenerationWatch, MemoryConfig, MemoryStore, Metrics, QUEUES } from '@app/memory';
import { retryStartup } from '@app/memory/redis/retry-startup';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { REDIS, VECTOR_INDEX } from '@app/memory/nest/tokens';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { HttpReranker } from './retrieve/http-reranker';
import { QueryEmbedder } from './retrieve/query-embedder';
import { RetrieveProcessor } from './retrieve/retrieve.processor';
import { RetrieveService } from './retrieve/retrieve.service';
import { VectorIndexCloser } from './retrieve/vector-index-closer';

@Module({
  imports: [MemoryCoreModule.forRoot('retriever'), registerQueues([QUEUES.retrieve])],
  controllers: [WorkerHealthController],
  providers: [
    {
      provide: VECTOR_INDEX,
      inject: [MemoryConfig, REDIS, MemoryStore, Metrics, GenerationWatch],
      useFactory: async (config: MemoryConfig, redis: RedisClient, store: MemoryStore, metrics: Metrics, watch: GenerationWatch) => {
        const logger = new Logger('VectorIndex');
        const index = new GenerationalVectorIndex(watch, {
          config,
          redis,
          store,
          logger,
          onFallback: () => metrics.countHnswFallback(),
          onRebuild: (reason) => metrics.countIndexRebuild(reason),
          onRebuildScan: () => metrics.countRebuildScan(),
          onIndexingFailures: (count) => metrics.setIndexingFailures(count),
          onSearchFailure: (reason) => metrics.countSearchFailure(reason),
        });
        await retryStartup('building the vector index', () => index.init(), logger);
        return index;
      },
    },
    { provide: ContextAssembler, useFactory: () => new ContextAssembler() },
    QueryEmbedder,
    HttpReranker,
    RetrieveService,
    RetrieveProcessor,
    VectorIndexCloser,
  ],
})
export class RetrieverModule {}
