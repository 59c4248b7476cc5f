import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Queue } from 'bullmq';
import { loadConfig } from '@app/memory/config/load-config';
import { QUEUES, type QueueName } from '@app/memory/queues/job-contracts';
import { createQueueConnection, createRedis, type RedisClient } from '@app/memory/redis/create-redis';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { LoadSheddingGuard } from '../../apps/api/src/common/load-shedding.guard';
import type { JobGateway } from '../../apps/api/src/common/job-gateway';
import { RedisServer } from '../support/redis-server';

/** Long enough that a pause of the test process itself (a GC late in the run) is never taken for Redis not answering. */
const COMMAND_TIMEOUT_MS = 1000;

/** A request of a tenant on a route that uses no queue: only the Redis probe can shed it. */
const tenantRequest = (): ExecutionContext =>
  ({
    switchToHttp: () => ({ getRequest: () => ({ tenant: 'a' }), getResponse: () => ({ header: () => undefined }) }),
    getHandler: () => tenantRequest,
    getClass: () => LoadSheddingGuard,
  }) as unknown as ExecutionContext;

/**
 * Found by the attack rerun (scripts/attack-run.ts): tenant B's flood of 500-turn batches queued its bulk adds on the
 * API's shared queue connection, the guard's depth sample waited behind them past REDIS_COMMAND_TIMEOUT_MS, and the
 * guard took that for a Redis that does not answer and shed every tenant (tenant A: 252 × 503 in 30 s) while a fresh
 * connection's PING took 9 ms. A backlog on the shared connections is not an unresponsive Redis.
 */
describe('the load-shedding guard under a backlog on the shared connections', () => {
  const redis = new RedisServer();
  let client: RedisClient;
  let shared: RedisClient;
  let queues: Queue[];
  let guard: LoadSheddingGuard;

  beforeAll(async () => {
    await redis.start();
    const config = loadConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) });
    client = createRedis(redisEndpoint(config), COMMAND_TIMEOUT_MS);
    shared = createQueueConnection(redisEndpoint(config), true, COMMAND_TIMEOUT_MS);
    queues = [QUEUES.embed, QUEUES.retrieve].map((name) => new Queue(name, { connection: shared, prefix: 'mem-bull' }));
    const jobs = { queue: (name: QueueName) => queues[name === QUEUES.embed ? 0 : 1] } as unknown as JobGateway;
    guard = new LoadSheddingGuard(client, jobs, config, new Reflector());
    await Promise.all(queues.map((q) => q.waitUntilReady()));
  });

  afterAll(async () => {
    guard.onApplicationShutdown();
    await Promise.all(queues.map((q) => q.close()));
    client.disconnect();
    shared.disconnect();
    await redis.stop();
  });

  it('admits requests while the shared queue connection is busy and Redis answers', async () => {
    expect(await guard.canActivate(tenantRequest())).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // the next request takes a new sample
    // A command that holds the shared connection for 2 s, as a queue of bulk adds does; Redis answers everyone else.
    // (Its own reply times out after 1 s, but what is sent behind it on that socket waits the 2 s.)
    const busy = shared.blpop('nothing-ever', 2).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(await client.ping()).toBe('PONG');
    await expect(guard.canActivate(tenantRequest())).resolves.toBe(true);
    await busy;
  });

  it('still sheds at once when Redis itself does not answer', async () => {
    await new Promise((r) => setTimeout(r, 300));
    redis.pause();
    try {
      const started = Date.now();
      await expect(guard.canActivate(tenantRequest())).rejects.toThrow('Redis is not answering');
      expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
    } finally {
      redis.resume();
    }
  });
});
