import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { type EmbedTurnJob, QUEUES } from '@app/memory/queues/job-contracts';
import { KeySchema } from '@app/memory/redis/key-schema';
import { JobGateway } from '../../apps/api/src/common/job-gateway';
import { JobFailedError } from '../../apps/api/src/common/job-failed.error';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

/**
 * The API's waits for embed jobs (JobGateway with a real BullMQ queue and worker on a real redis-server): a failure
 * reply that comes before its caller awaits the result, and resent turns whose jobs carry no reply address.
 */
describe('JobGateway waits', () => {
  const server = new RedisServer();
  let redis: Redis;
  let gateway: JobGateway;
  let queues: Queue[];
  let worker: Worker | undefined;
  let seq = 0;

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    const opts = { connection: redis, prefix: 'mem-bull' };
    queues = [new Queue(QUEUES.embed, opts), new Queue(QUEUES.retrieve, opts), new Queue(QUEUES.extract, opts)];
    gateway = new JobGateway(queues[0], queues[1], queues[2], loadConfig(server.env), new KeySchema(), redis);
    await gateway.onModuleInit();
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  afterAll(async () => {
    gateway.onApplicationShutdown();
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await server.stop();
  });

  const turn = (turnId: string): EmbedTurnJob => ({ tenant: 't', session: 's', turnId, seq: ++seq, role: 'user', content: turnId, timestamp: 1 });
  /** An embedder stand-in: turns whose id starts with "bad" fail for good. */
  const startWorker = () => {
    worker = new Worker<EmbedTurnJob>(
      QUEUES.embed,
      async (job: Job<EmbedTurnJob>) => {
        if (job.data.turnId.startsWith('bad')) throw new UnrecoverableError(`InvalidInputError: ${job.data.turnId}`);
        return { seq: job.data.seq, outcome: 'stored' };
      },
      { connection: new Redis(server.url, { maxRetriesPerRequest: null }), prefix: 'mem-bull' },
    );
  };

  it('keeps a failure that comes before its caller awaits it for the caller (not an unhandled rejection that ends the API)', async () => {
    // In a process of its own, from the build: under jest an unhandled rejection does not end the process, as it ends
    // the API. The caller is busy elsewhere (a chat's upstream call) when the embedder sends that the job failed for good.
    const dist = (path: string) => JSON.stringify(join(repoRoot(), 'dist', path));
    const script = `
      const { Queue } = require('bullmq');
      const Redis = require('ioredis');
      const { JobGateway } = require(${dist('apps/api/src/common/job-gateway.js')});
      const { loadConfig } = require(${dist('libs/memory/src/config/load-config.js')});
      const { KeySchema } = require(${dist('libs/memory/src/redis/key-schema.js')});
      const { ReplyChannel } = require(${dist('libs/memory/src/queues/reply-channel.js')});
      (async () => {
        const redis = new Redis(${JSON.stringify(server.url)});
        const queues = ['embed', 'retrieve', 'extract'].map((name) => new Queue(name, { connection: redis, prefix: 'mem-bull-early' }));
        const gateway = new JobGateway(...queues, loadConfig({ REDIS_URL: ${JSON.stringify(server.url)} }), new KeySchema(), redis);
        await gateway.onModuleInit();
        const turn = { tenant: 't', session: 's', turnId: 'doomed', seq: 1, role: 'user', content: 'doomed', timestamp: 1 };
        const { stored } = await gateway.enqueueTurns([{ data: turn, resent: false }], gateway.deadline());
        const [job] = await queues[0].getWaiting();
        await new ReplyChannel(redis).failed(job, 'InvalidInputError: doomed');
        await new Promise((r) => setTimeout(r, 300));
        console.log(await stored.catch((err) => err.message));
        process.exit(0);
      })();`;
    const child = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8', timeout: 30_000 });
    expect([child.status, child.stdout.trim(), child.stderr]).toEqual([0, 'embed job failed: InvalidInputError: doomed', '']);
  });

  it('watches a resent turn whose job was added by a request that did not wait: done when it is, failed with its reason', async () => {
    const good = turn('resent-good');
    const bad = turn('bad-resent');
    await gateway.enqueueTurns([{ data: good, resent: false }, { data: bad, resent: false }]);
    const { stored } = await gateway.enqueueTurns(
      [
        { data: good, resent: true },
        { data: bad, resent: true },
      ],
      gateway.deadline(),
    );
    expect((await queues[0].getWaiting()).map((j) => j.data.replyTo)).toEqual([undefined, undefined]);
    startWorker();
    await expect(stored).rejects.toThrow(new JobFailedError(QUEUES.embed, 'InvalidInputError: bad-resent'));
    const { stored: again } = await gateway.enqueueTurns([{ data: good, resent: true }], gateway.deadline());
    await expect(again).resolves.toBeDefined();
  });
});
