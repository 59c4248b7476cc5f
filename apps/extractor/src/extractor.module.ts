import { Module } from '@nestjs/common';
import { createStructuredLlm, MemoryConfig, QUEUES } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { WorkerHealthController } from '@app/memory/nest/worker-health.controller';
import { ExtractMemoriesProcessor } from './extract-memories/extract-memories.processor';
import { ExtractMemoriesService } from './extract-memories/extract-memories.service';
import { SummariseSessionService } from './summarise-session/summarise-session.service';
import { STRUCTURED_LLM } from './structured-llm.token';

@Module({
  imports: [MemoryCoreModule.forRoot('extractor'), registerQueues([QUEUES.extract])],
  controllers: [WorkerHealthController],
  providers: [
    { provide: STRUCTURED_LLM, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createStructuredLlm(c) },
    ExtractMemoriesService,
    SummariseSessionService,
    ExtractMemoriesProcessor,
  ],
})
export class ExtractorModule {}
