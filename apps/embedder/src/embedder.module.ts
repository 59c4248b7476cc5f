import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '@app/memory';
import { embeddingProvider } from '@app/memory/nest/embedding-provider';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { EmbedTurnsProcessor } from './embed-turns/embed-turns.processor';
import { EmbedTurnsService } from './embed-turns/embed-turns.service';

@Module({
  imports: [MemoryCoreModule.forRoot('embedder'), BullModule.registerQueue({ name: QUEUES.embed })],
  controllers: [WorkerHealthController],
  providers: [
    embeddingProvider,
    EmbedTurnsService,
    EmbedTurnsProcessor,
  ],
})
export class EmbedderModule {}
