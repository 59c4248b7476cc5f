import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { createEmbeddingProvider, MemoryConfig, QUEUES } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { EMBEDDING_PROVIDER } from '@app/memory/nest/tokens';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { EmbedTurnsProcessor } from './embed-turns/embed-turns.processor';
import { EmbedTurnsService } from './embed-turns/embed-turns.service';

@Module({
  imports: [MemoryCoreModule.forRoot('embedder'), BullModule.registerQueue({ name: QUEUES.embed })],
  controllers: [WorkerHealthController],
  providers: [
    { provide: EMBEDDING_PROVIDER, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createEmbeddingProvider(c) },
    EmbedTurnsService,
    EmbedTurnsProcessor,
  ],
})
export class EmbedderModule {}
