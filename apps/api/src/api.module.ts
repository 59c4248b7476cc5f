import { Module } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type Redis from 'ioredis';
import type { RedisClient } from '@app/memory/redis/create-redis';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApiKeyStore, createLlmProvider, GenerationStore, KeySchema, MemoryConfig, MemoryStore, processEnv, QUEUES, ReindexControl } from '@app/memory';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import { registerQueues } from '@app/memory/nest/register-queues';
import { LLM_PROVIDER, REDIS } from '@app/memory/nest/tokens';
import { ContextController } from './build-context/context.controller';
import { ContextService } from './build-context/context.service';
import { ChatController } from './chat/chat.controller';
import { ChatService } from './chat/chat.service';
import { ChatCompletionsController } from './chat-completions/chat-completions.controller';
import { ChatCompletionsService } from './chat-completions/chat-completions.service';
import { llmUpstreamProvider } from './chat-completions/llm-upstream';
import { JobGateway } from './common/job-gateway';
import type { TenantRequest } from './common/tenant.decorator';
import { QueueDepthGauge } from './common/queue-depth.gauge';
import { LoadSheddingGuard } from './common/load-shedding.guard';
import { Authenticator } from './auth/authenticator';
import { AccessGuard } from './auth/access.guard';
import { AccessPolicy } from './auth/access-policy';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { TimedOperationInterceptor } from './common/timed-operation';
import { ForgetSessionController } from './forget-session/forget-session.controller';
import { ForgetSessionService } from './forget-session/forget-session.service';
import { ForgetTurnController } from './forget-turn/forget-turn.controller';
import { ForgetTurnService } from './forget-turn/forget-turn.service';
import { ForgetUserController } from './forget-user/forget-user.controller';
import { ForgetUserService } from './forget-user/forget-user.service';
import { ForgetMemoryController } from './forget-memory/forget-memory.controller';
import { ForgetMemoryService } from './forget-memory/forget-memory.service';
import { HealthController } from './health/health.controller';
import { ListMemoriesController } from './list-memories/list-memories.controller';
import { ListMemoriesService } from './list-memories/list-memories.service';
import { MemoryHistoryController } from './memory-history/memory-history.controller';
import { MemoryHistoryService } from './memory-history/memory-history.service';
import { ListSessionsController } from './list-sessions/list-sessions.controller';
import { ListSessionsService } from './list-sessions/list-sessions.service';
import { McpController } from './mcp/mcp.controller';
import { MemoryTools } from './mcp/memory-tools';
import { MemorySearchService } from './search-memories/memory-search.service';
import { SearchMemoriesController } from './search-memories/search-memories.controller';
import { SessionHistoryController } from './session-history/session-history.controller';
import { ReindexController } from './reindex/reindex.controller';
import { ReindexProgressGauge } from './reindex/reindex-progress.gauge';
import { SessionSummaryController } from './session-summary/session-summary.controller';
import { SessionSummaryService } from './session-summary/session-summary.service';
import { WriteTurnsController } from './write-turns/write-turns.controller';
import { WriteTurnsService } from './write-turns/write-turns.service';
import { TenantWriteSlots } from './write-turns/tenant-write-slots';
import { IngestThread } from './write-turns/ingest-thread';

/** The API's queues: searches' jobs on a connection of their own, not behind a tenant's bulk adds of embed jobs. */
export const API_QUEUES = registerQueues([QUEUES.embed, QUEUES.retrieve, QUEUES.extract], [QUEUES.retrieve]);

@Module({
  imports: [
    MemoryCoreModule.forRoot('api'),
    API_QUEUES,
    ThrottlerModule.forRootAsync({
      inject: [MemoryConfig, REDIS],
      useFactory: (config: MemoryConfig, redis: RedisClient) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.RATE_LIMIT_PER_MINUTE }],
        // It takes a Redis or a Cluster (an overload each): its script's two keys share a hash tag.
        storage: new ThrottlerStorageRedisService(redis as Redis),
        // Per tenant over all its routes (the default key also names the handler: a limit per route); public
        // routes (no tenant) are not limited.
        getTracker: (req: Record<string, unknown>) => String(req.tenant),
        generateKey: (_ctx, tenant, throttler) => `${throttler}:${tenant}`,
        skipIf: (ctx) => !ctx.switchToHttp().getRequest<TenantRequest>().tenant,
      }),
    }),
  ],
  controllers: [
    HealthController,
    WriteTurnsController,
    SessionHistoryController,
    SessionSummaryController,
    ChatController,
    ChatCompletionsController,
    SearchMemoriesController,
    ContextController,
    ListSessionsController,
    ForgetTurnController,
    ForgetSessionController,
    ForgetUserController,
    ListMemoriesController,
    MemoryHistoryController,
    ForgetMemoryController,
    McpController,
    ApiKeysController,
    ReindexController,
  ],
  providers: [
    // Authentication runs before these, in an onRequest hook (main.ts). Then: shed load, rate-limit per tenant, and
    // check the key's scope and user against the route's @Access.
    { provide: APP_GUARD, useClass: LoadSheddingGuard },
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    { provide: APP_GUARD, useClass: AccessGuard },
    Authenticator,
    AccessPolicy,
    { provide: APP_INTERCEPTOR, useClass: TimedOperationInterceptor },
    {
      provide: ApiKeyStore,
      inject: [MemoryConfig, REDIS, KeySchema],
      useFactory: (c: MemoryConfig, r: RedisClient, k: KeySchema) => new ApiKeyStore(c, r, k),
    },
    { provide: LLM_PROVIDER, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createLlmProvider(c) },
    JobGateway,
    QueueDepthGauge,
    WriteTurnsService,
    TenantWriteSlots,
    // REST turn writes run in it; it starts in onModuleInit, after MemoryStore's factory has checked the store's layout.
    { provide: IngestThread, useFactory: () => new IngestThread(processEnv()) },
    ChatService,
    ChatCompletionsService,
    llmUpstreamProvider,
    MemorySearchService,
    ContextService,
    SessionSummaryService,
    ListSessionsService,
    ForgetTurnService,
    ForgetSessionService,
    ForgetUserService,
    ListMemoriesService,
    MemoryHistoryService,
    ForgetMemoryService,
    MemoryTools,
    {
      provide: ReindexControl,
      inject: [GenerationStore, MemoryStore, MemoryConfig],
      useFactory: (g: GenerationStore, s: MemoryStore, c: MemoryConfig) => new ReindexControl(g, s, c),
    },
    ReindexProgressGauge,
  ],
})
export class ApiModule {}
