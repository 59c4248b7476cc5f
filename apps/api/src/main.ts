import 'reflect-metadata';
import { HttpStatus, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Metrics, processConfig } from '@app/memory';
import { appLogger } from '@app/memory/nest/app-logger';
import { ApiModule } from './api.module';
import { Authenticator } from './auth/authenticator';
import { ApiException } from './common/api-exception';
import { DomainExceptionFilter, errorAnswer } from './common/domain-exception.filter';
import { jsonBodyParser } from './common/json-body-parser';
import { LIMITS } from './common/limits';
import { requestDeadline } from './common/request-deadline';
import { VALIDATION } from './common/validation';
import { IngestThread } from './write-turns/ingest-thread';
import { TenantWriteSlots } from './write-turns/tenant-write-slots';

async function bootstrap(): Promise<void> {
  const config = processConfig();
  const adapter = new FastifyAdapter({
    bodyLimit: LIMITS.bodyBytes,
    // The client address (the failed-login throttle's key) from X-Forwarded-For only when sent by a named proxy.
    trustProxy: config.TRUST_PROXY ?? false,
    // A 128-character turn id in a path, URL-encoded, is far longer than Fastify's default 100 (a 414 otherwise).
    routerOptions: { maxParamLength: LIMITS.paramChars },
    // Headers and body must arrive within this (Node answers 408 and closes), checked every second instead of every
    // 30 s. Node swaps the two timeouts when headersTimeout (60 s by default) is the larger: it must not be.
    requestTimeout: config.HTTP_BODY_TIMEOUT_MS,
    http: { headersTimeout: config.HTTP_BODY_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1000, config.HTTP_BODY_TIMEOUT_MS) },
    // Fastify's own 503 while closing has no code, reason or Retry-After: the hook below answers instead.
    return503OnClosing: false,
  });
  const fastify = adapter.getInstance();
  // JSON is the only body the API takes (no form bodies: 415), through its own parser.
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, adapter, { bodyParser: false, logger: appLogger(config.LOG_LEVEL) });
  const ingest = app.get(IngestThread);
  app.useBodyParser('application/json', { bodyLimit: LIMITS.bodyBytes }, jsonBodyParser(fastify, (body) => ingest.parse(body)));
  // Fastify's own text/plain parser would hand a JSON body sent as text/plain to validation as a string: 415 instead.
  fastify.removeContentTypeParser('text/plain');
  const metrics = app.get(Metrics);
  app.useGlobalPipes(new ValidationPipe(VALIDATION));
  app.useGlobalFilters(new DomainExceptionFilter());
  app.enableShutdownHooks();

  // Once the server closes (SIGTERM), a request that comes on a connection still open (its earlier request in flight)
  // is answered 503 at once: the first hook, so nothing else runs for it.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    const { status, body } = errorAnswer(new ApiException(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', 'the API is shutting down; retry'));
    void reply.headers({ 'Retry-After': '1', Connection: 'close' }).status(status).send(body);
  });
  fastify.addHook('onRequest', requestDeadline(config.HTTP_REQUEST_TIMEOUT_MS));
  // Authentication comes before the body is read: see Authenticator.
  const authenticator = app.get(Authenticator);
  fastify.addHook('onRequest', (request, reply) => authenticator.onRequest(request, reply));
  // A tenant's bulk writes are bounded once it is known, still before the body is read.
  const writeSlots = app.get(TenantWriteSlots);
  fastify.addHook('onRequest', async (request, reply) => writeSlots.onRequest(request, reply));
  // HTTP latency by route pattern (never the raw URL, which carries session ids).
  fastify.addHook('onResponse', async (request, reply) => {
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
