import { BullModule } from '@nestjs/bullmq';
import { Logger, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { ContextAssembler, createEmbeddingProvider, createVectorIndex, MemoryConfig, MemoryStore, Metrics, QUEUES } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { EMBEDDING_PROVIDER, REDIS, VECTOR_INDEX } from '@app/memory/nest/tokens';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { QueryEmbedder } from './retrieve/query-embedder';
import { RetrieveProcessor } from './retrieve/retrieve.processor';
import { RetrieveService } from './retrieve/retrieve.service';
import { VectorIndexCloser } from './retrieve/vector-index-closer';

@Module({
  imports: [MemoryCoreModule.forRoot('retriever'), BullModule.registerQueue({ name: QUEUES.retrieve })],
  controllers: [WorkerHealthController],
  providers: [
    { provide: EMBEDDING_PROVIDER, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createEmbeddingProvider(c) },
    {
      provide: VECTOR_INDEX,
      inject: [MemoryConfig, REDIS, MemoryStore, Metrics],
      useFactory: (config: MemoryConfig, redis: Redis, store: MemoryStore, metrics: Metrics) =>
        createVectorIndex({
          config,
          // The in-process index blocks on the change log, so it gets a connection of its own.
          redis: redis.duplicate(),
          store,
          logger: new Logger('VectorIndex'),
          onFallback: () => metrics.countHnswFallback(),
        }),
    },
    { provide: ContextAssembler, useFactory: () => new ContextAssembler() },
    QueryEmbedder,
    RetrieveService,
    RetrieveProcessor,
    VectorIndexCloser,
  ],
})
export class RetrieverModule {}
