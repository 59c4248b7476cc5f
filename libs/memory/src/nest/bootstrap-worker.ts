import { Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { MemoryConfig } from '../config/memory-config';
import { logLevels } from './log-levels';

/** Starts a worker app: its queue processor plus a small HTTP server for /metrics and /healthz. */
export async function bootstrapWorker(name: string, module: Type<unknown>): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter());
  const config = app.get(MemoryConfig);
  app.useLogger(logLevels(config.LOG_LEVEL));
  // SIGTERM closes the BullMQ worker, which waits for its active jobs before the process exits.
  app.enableShutdownHooks();
  await app.listen(config.METRICS_PORT, config.METRICS_HOST);
  new Logger(name).log(`ready (pid ${process.pid}); /metrics and /healthz on ${await app.getUrl()}`);
}
