import { Module } from '@nestjs/common';
import { QUEUES } from '@app/memory';
import { embeddingProvider } from '@app/memory/nest/embedding-provider';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { EmbedTurnsProcessor } from './embed-turns/embed-turns.processor';
import { EmbedTurnsService } from './embed-turns/embed-turns.service';

@Module({
  imports: [MemoryCoreModule.forRoot('embedder'), registerQueues([QUEUES.embed])],
  controllers: [WorkerHealthController],
  providers: [
    embeddingProvider,
    EmbedTurnsService,
    EmbedTurnsProcessor,
  ],
})
export class EmbedderModule {}
