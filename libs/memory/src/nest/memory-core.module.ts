import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { processConfig } from '../config/load-config';
import { GenerationEmbedder } from '../generation/generation-embedder';
import { GenerationStore } from '../generation/generation-store';
import { GenerationWatch } from '../generation/generation-watch';
import { MemoryConfig } from '../config/memory-config';
import { Metrics, ServiceName } from '../metrics';
import { queueRootOptions } from '../queues/queue-root-options';
import { ReplyChannel } from '../queues/reply-channel';
import { createRedis, type RedisClient } from '../redis/create-redis';
import { redisEndpoint } from '../redis/redis-endpoint';
import { retryStartup } from '../redis/retry-startup';
import { KeySchema } from '../redis/key-schema';
import { MemoryRepository } from '../store/memory-repository';
import { MemoryStore } from '../store/memory-store';
import { SessionSummaryRepository } from '../store/session-summary-repository';
import { assertLayout } from '../store/store-layout';
import { MetricsController } from './metrics.controller';
import { RedisCloser } from './redis-closer';
import { REDIS } from './tokens';

/**
 * What every app shares: the validated config (through ConfigService), one Redis client, the key schema,
 * the stores of turns and memories, the process's metrics, /metrics, the reply channel (workers answer waiting API replicas
 * on it), and BullMQ's root connection (queues get their prefixes from registerQueues). Every client is built by the factories in ../redis, for a single Redis or a cluster alike.
 */
@Global()
@Module({})
export class MemoryCoreModule {
  static forRoot(service: ServiceName): DynamicModule {
    return {
      module: MemoryCoreModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ memory: processConfig() })] }),
        BullModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (cs: ConfigService) => queueRootOptions(cs.getOrThrow<MemoryConfig>('memory'), service === 'api'),
        }),
      ],
      controllers: [MetricsController],
      providers: [
        { provide: MemoryConfig, inject: [ConfigService], useFactory: (cs: ConfigService) => cs.getOrThrow<MemoryConfig>('memory') },
        { provide: REDIS, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => createRedis(redisEndpoint(c), c.REDIS_COMMAND_TIMEOUT_MS) },
        { provide: KeySchema, inject: [MemoryConfig], useFactory: (c: MemoryConfig) => new KeySchema(c.KEY_PREFIX, c.CHANGELOG_PARTITIONS) },
        {
          provide: MemoryStore,
          inject: [REDIS, KeySchema, MemoryConfig],
          useFactory: async (r: RedisClient, k: KeySchema, c: MemoryConfig) => {
            await retryStartup('checking the store layout', () => assertLayout(r, k), new Logger('Redis'));
            return new MemoryStore(r, k, { forgetTtlSeconds: c.FORGET_TTL_SECONDS });
          },
        },
        {
          provide: MemoryRepository,
          inject: [REDIS, KeySchema, MemoryStore, MemoryConfig],
          useFactory: (r: RedisClient, k: KeySchema, s: MemoryStore, c: MemoryConfig) => new MemoryRepository(r, k, s, c.FORGET_TTL_SECONDS),
        },
        { provide: GenerationStore, inject: [REDIS, KeySchema], useFactory: (r: RedisClient, k: KeySchema) => new GenerationStore(r, k) },
        {
          provide: GenerationWatch,
          inject: [GenerationStore, MemoryConfig, MemoryStore],
          // After MemoryStore: the layout is checked before the generation is adopted.
          useFactory: async (g: GenerationStore, c: MemoryConfig, s: MemoryStore) => {
            const logger = new Logger('Generations');
            const watch = new GenerationWatch(g, s, c, logger);
            await retryStartup('reading the embedding generations', () => watch.start(), logger);
            return watch;
          },
        },
        { provide: GenerationEmbedder, inject: [GenerationWatch, Metrics], useFactory: (w: GenerationWatch, m: Metrics) => new GenerationEmbedder(w, m) },
        {
          provide: SessionSummaryRepository,
          inject: [REDIS, KeySchema, MemoryConfig],
          useFactory: (r: RedisClient, k: KeySchema, c: MemoryConfig) => new SessionSummaryRepository(r, k, c.SUMMARY_MAX_VERSIONS),
        },
        { provide: Metrics, useFactory: () => new Metrics(service) },
        { provide: ReplyChannel, inject: [REDIS], useFactory: (r: RedisClient) => new ReplyChannel(r) },
        RedisCloser,
      ],
      exports: [MemoryConfig, REDIS, KeySchema, MemoryStore, MemoryRepository, SessionSummaryRepository, GenerationStore, GenerationWatch, GenerationEmbedder, Metrics, ReplyChannel],
    };
  }
}
