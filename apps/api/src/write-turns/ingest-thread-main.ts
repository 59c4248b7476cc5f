import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { parentPort, workerData } from 'node:worker_threads';
import { KeySchema, MemoryStore, processConfig, QUEUES } from '@app/memory';
import { appLogger } from '@app/memory/nest/app-logger';
import { queuePrefix } from '@app/memory/queues/queue-prefix';
import { queueRootOptions } from '@app/memory/queues/queue-root-options';
import { createRedis } from '@app/memory/redis/create-redis';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { niceThisThread } from '@app/memory/threads/nice-this-thread';
import { AccessPolicy } from '../auth/access-policy';
import { errorAnswer } from '../common/domain-exception.filter';
import { defaultJsonParser, parseJsonBody } from '../common/json-body-parser';
import { JobGateway } from '../common/job-gateway';
import { INGEST_CONNECTION, type IngestReply, type IngestRequest, type IngestThreadInit } from './ingest-protocol';
import { TurnWriter } from './turn-writer';
import { WriteTurnsService } from './write-turns.service';

/**
 * The ingest thread (see IngestThread): the write path's own classes, built here with connections of their own, run
 * the turn writes the main thread hands over. The store's layout was checked by the main thread before it started
 * this one.
 */
async function main(): Promise<void> {
  const port = parentPort!;
  niceThisThread((workerData as IngestThreadInit).nice);
  const config = processConfig();
  Logger.overrideLogger(appLogger(config.LOG_LEVEL));
  const redis = createRedis(redisEndpoint(config), config.REDIS_COMMAND_TIMEOUT_MS, INGEST_CONNECTION);
  const keys = new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS);
  const store = new MemoryStore(redis, keys, { forgetTtlSeconds: config.FORGET_TTL_SECONDS });
  const root = queueRootOptions(config, true);
  const [embed, retrieve, extract] = [QUEUES.embed, QUEUES.retrieve, QUEUES.extract].map((name) => new Queue(name, { ...root, prefix: queuePrefix(config, name) }));
  const jobs = new JobGateway(embed, retrieve, extract, config, keys, redis);
  await jobs.onModuleInit();
  const parser = defaultJsonParser(Fastify());
  const writer = new TurnWriter(parser, new AccessPolicy(store), new WriteTurnsService(store, jobs, config));

  /** The writes in this thread, by id: whether their client has gone. */
  const writes = new Map<number, { cancelled: boolean }>();
  const reply = (msg: IngestReply) => port.postMessage(msg);
  port.on('message', (msg: IngestRequest) => {
    if (msg.op === 'cancel') {
      const write = writes.get(msg.id);
      if (write) write.cancelled = true;
    } else if (msg.op === 'parse') {
      setImmediate(() => {
        try {
          reply({ op: 'answer', id: msg.id, answer: { ok: true, value: parseJsonBody(msg.body, parser) } });
        } catch (err) {
          reply({ op: 'answer', id: msg.id, answer: { ok: false, error: errorAnswer(err) } });
        }
      });
    } else if (msg.op === 'write') {
      const write = { cancelled: false };
      writes.set(msg.id, write);
      // After the messages already here: a cancellation sent while this write waited in line is seen before it starts.
      setImmediate(() => {
        void writer.write(msg.write, () => write.cancelled).then((answer) => {
          writes.delete(msg.id);
          reply({ op: 'answer', id: msg.id, answer });
        });
      });
    } else {
      void (async () => {
        await jobs.onApplicationShutdown();
        await Promise.all([embed, retrieve, extract].map((q) => q.close()));
        await Promise.all([redis, root.connection as typeof redis].map((c) => c.quit().catch(() => c.disconnect())));
        process.exit(0);
      })();
    }
  });
  reply({ op: 'ready' });
}

void main();
