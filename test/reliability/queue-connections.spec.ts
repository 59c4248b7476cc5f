import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUES } from '@app/memory/queues/job-contracts';
import { MemoryCoreModule } from '@app/memory/nest/memory-core.module';
import type { RedisClient } from '@app/memory/redis/create-redis';
import { API_QUEUES } from '../../apps/api/src/api.module';
import { RedisServer } from '../support/redis-server';

/**
 * Found by the attack rerun (scripts/attack-run.ts): with both API queues on one socket, tenant B's flood of 500-turn
 * batches (16 bulk adds of 500 embed jobs at a time) sat in front of every search's retrieve job on that socket, whose
 * commands Redis answers in order: tenant A's searches timed out (503 "Redis is unavailable", Command timed out)
 * while Redis answered a fresh connection within 10 ms. A backlog of embed adds must not delay a search's add.
 */
describe("the API's queue connections", () => {
  const redis = new RedisServer();
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;

  beforeAll(async () => {
    await redis.start();
    process.env.REDIS_URL = redis.url; // the apps' modules read the validated process environment
    @Module({ imports: [MemoryCoreModule.forRoot('api'), API_QUEUES] })
    class ApiQueues {}
    app = await NestFactory.createApplicationContext(ApiQueues, { logger: false });
  });

  afterAll(async () => {
    await app?.close();
    await redis.stop();
  });

  it("adds a retrieve job at once while the embed queue's connection is busy", async () => {
    const embed = app.get<Queue>(getQueueToken(QUEUES.embed));
    const retrieve = app.get<Queue>(getQueueToken(QUEUES.retrieve));
    // Holds the embed queue's socket for 2 s, as a queue of bulk adds does (its own reply times out; what is sent
    // behind it on that socket waits).
    const busy = (embed.opts.connection as RedisClient).blpop('nothing-ever', 2).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await retrieve.add('probe', { tenant: 'a' });
    expect(Date.now() - started).toBeLessThan(500);
    await busy;
  });
});
