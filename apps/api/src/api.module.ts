import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { createLlmProvider, MemoryConfig, QUEUES } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { LLM_PROVIDER } from '@app/memory/nest/tokens';
import { ChatController } from './chat/chat.controller';
import { ChatService } from './chat/chat.service';
import { JobGateway } from './common/job-gateway';
import { QueueDepthGauge } from './common/queue-depth.gauge';
import { TenantGuard } from './common/tenant.guard';
import { ForgetSessionController } from './forget-session/forget-session.controller';
import { HealthController } from './health/health.controller';
import { SearchMemoriesController } from './search-memories/search-memories.controller';
import { SessionHistoryController } from './session-history/session-history.controller';
import { WriteTurnsController } from './write-turns/write-turns.controller';
import { WriteTurnsService } from './write-turns/write-turns.service';

@Module({
  imports: [MemoryCoreModule.forRoot('api'), BullModule.registerQueue({ name: QUEUES.embed }, { name: QUEUES.retrieve })],
  controllers: [
    HealthController,
    WriteTurnsController,
    SessionHistoryController,
    ChatController,
    SearchMemoriesController,
    ForgetSessionController,
  ],
  providers: [
    { provide: APP_GUARD, useClass: TenantGuard },
    { provide: LLM_PROVIDER, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createLlmProvider(c) },
    JobGateway,
    QueueDepthGauge,
    WriteTurnsService,
    ChatService,
  ],
})
export class ApiModule {}
