import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { MemoryConfig, Metrics } from '@app/memory';
import { logLevels } from '@app/memory/nest/log-levels';
import { ApiModule } from './api.module';
import { DomainExceptionFilter } from './common/domain-exception.filter';
import { LIMITS } from './common/limits';
import { VALIDATION } from './common/validation';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter({ bodyLimit: LIMITS.bodyBytes, maxParamLength: LIMITS.paramChars }));
  const config = app.get(MemoryConfig);
  const metrics = app.get(Metrics);
  app.useLogger(logLevels(config.LOG_LEVEL));
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
    .setDescription(
      'Memory for AI agents: store turns, search memories across sessions and users, build a context for your own LLM, ' +
        'chat with context, forget sessions, turns and users. Every /v1 route wants `Authorization: Bearer <API key>`. ' +
        'Also served, and not described here: `GET /metrics` (Prometheus text format, public) and `/mcp` ' +
        '(the Model Context Protocol over Streamable HTTP, same API keys; see docs/mcp.md).',
    )
    .setVersion('0.1.0')
    // API keys are opaque strings, not JWTs: no bearerFormat.
    .addSecurity('apiKey', { type: 'http', scheme: 'bearer', description: 'An API key (API_KEYS, or issued with `cli keys issue`)' })
    .addSecurityRequirements('apiKey')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));

  await app.listen(config.API_PORT, config.API_HOST);
  new Logger('api').log(`listening on ${await app.getUrl()} (OpenAPI at /docs)`);
}

void bootstrap();
