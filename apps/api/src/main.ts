import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { MemoryConfig, Metrics } from '@app/memory';
import { processConfig } from '@app/memory/config/load-config';
import { appLogger } from '@app/memory/nest/app-logger';
import { ApiModule } from './api.module';
import { DomainExceptionFilter } from './common/domain-exception.filter';
import { LIMITS } from './common/limits';
import { VALIDATION } from './common/validation';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter({ bodyLimit: LIMITS.bodyBytes }), {
    logger: appLogger(processConfig().LOG_LEVEL),
  });
  const config = app.get(MemoryConfig);
  const metrics = app.get(Metrics);
  app.useGlobalPipes(new ValidationPipe(VALIDATION));
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();

  // HTTP latency by route pattern (never the raw URL, which carries session ids).
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });

  const openApi = new DocumentBuilder()
    .setTitle('agent-memory')
    .setDescription('Memory for AI agents: store turns, retrieve relevant memories, chat with context.')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));

  await app.listen(config.API_PORT, config.API_HOST);
  new Logger('api').log(`listening on ${await app.getUrl()} (OpenAPI at /docs)`);
}

void bootstrap();
