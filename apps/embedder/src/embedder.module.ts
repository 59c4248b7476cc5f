import { Module } from '@nestjs/common';
import { QUEUES } from '@app/memory';
import { embeddingProvider } from '@app/memory/nest/embedding-provider';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { EmbedTurnsProcessor } from './embed-turns/embed-turns.processor';
import { EmbedTurnsService } from './embed-turns/embed-turns.service';
import { ExtractFeed } from './embed-turns/extract-feed';

@Module({
  imports: [MemoryCoreModule.forRoot('embedder'), registerQueues([QUEUES.embed, QUEUES.extract])],
  controllers: [WorkerHealthController],
  providers: [
    embeddingProvider,
    EmbedTurnsService,
    ExtractFeed,
    EmbedTurnsProcessor,
  ],
})
export class EmbedderModule {}
