import { Module } from '@nestjs/common';
import { QUEUES } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { EmbedTurnsProcessor } from './embed-turns/embed-turns.processor';
import { EmbedTurnsService } from './embed-turns/embed-turns.service';
import { ExtractFeed } from './embed-turns/extract-feed';
import { ReindexBatchService } from './reindex/reindex-batch.service';
import { ReindexDriver } from './reindex/reindex-driver';

@Module({
  imports: [MemoryCoreModule.forRoot('embedder'), registerQueues([QUEUES.embed, QUEUES.extract])],
  controllers: [WorkerHealthController],
  providers: [
    EmbedTurnsService,
    ReindexBatchService,
    ReindexDriver,
    ExtractFeed,
    EmbedTurnsProcessor,
  ],
})
export class EmbedderModule {}
