import { Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { processConfig } from '../config/load-config';
import { MemoryConfig } from '../config/memory-config';
import { appLogger } from './app-logger';

/** Starts a worker app: its queue processor plus a small HTTP server for /metrics and /healthz. */
export async function bootstrapWorker(name: string, module: Type<unknown>): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: appLogger(processConfig().LOG_LEVEL) });
  const config = app.get(MemoryConfig);
  // SIGTERM closes the BullMQ worker, which waits for its active jobs before the process exits.
  app.enableShutdownHooks();
  await app.listen(config.METRICS_PORT, config.METRICS_HOST);
  new Logger(name).log(`ready (pid ${process.pid}); /metrics and /healthz on ${await app.getUrl()}`);
}
