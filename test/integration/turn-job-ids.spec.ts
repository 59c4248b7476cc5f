import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { type EmbedTurnJob, QUEUES } from '@app/memory/queues/job-contracts';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { JobGateway } from '../../apps/api/src/common/job-gateway';
import { RedisServer } from '../support/redis-server';

/**
 * A failover to a lagging replica can lose a session's accepts while the queue, on another master, keeps their jobs:
 * the session's counter goes back and numbers the next turn with a seq whose job is still queued. That turn must get
 * a job of its own (before, the job id was made of the seq alone: adding it was a no-op, the old job was dropped
 * because its turn was no longer pending, and the new turn, acknowledged with 202, was never stored).
 */
describe('embed job ids after a session went back in time', () => {
  const server = new RedisServer();
  let redis: Redis;
  let gateway: JobGateway;
  let queues: Queue[];

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    const config = loadConfig(server.env);
    const opts = { connection: redis, prefix: 'mem-bull' };
    queues = [new Queue(QUEUES.embed, opts), new Queue(QUEUES.retrieve, opts), new Queue(QUEUES.extract, opts)];
    gateway = new JobGateway(queues[0], queues[1], queues[2], config, new KeySchema(), redis);
    await gateway.onModuleInit();
  });

  afterAll(async () => {
    await gateway.onApplicationShutdown();
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await server.stop();
  });

  it('gives a turn numbered with the seq of a lost accept a job of its own, which stores it', async () => {
    const store = new MemoryStore(redis, new KeySchema());
    const job = (turnId: string, seq: number): EmbedTurnJob => ({ tenant: 't', session: 's', turnId, seq, role: 'user', content: turnId, timestamp: 1 });
    const accepted = async (turnId: string) => {
      const r = await store.accept('t', 's', [turnId]);
      return r.status === 'accepted' ? r.turns[0].seq : -1;
    };

    const lostSeq = await accepted('lost');
    await gateway.enqueueTurns([{ data: job('lost', lostSeq), resent: false }]);
    // What the promoted replica holds: it never received that accept (the queue's master still has the job).
    await redis.del(store.keys.seq('t', 's'), store.keys.pending('t', 's'));
    const newSeq = await accepted('new');
    expect(newSeq).toBe(lostSeq);
    await gateway.enqueueTurns([{ data: job('new', newSeq), resent: false }]);

    const waiting = (await queues[0].getWaiting()).map((j) => j.data as EmbedTurnJob);
    expect(waiting.map((j) => j.turnId).sort()).toEqual(['lost', 'new']);
    const written = await store.write(waiting.map((j) => ({ ...j, tokenCount: 1, embedding: new Float32Array([1, 0]) })));
    expect(Object.fromEntries(written.map((w) => [w.turnId, w.outcome]))).toEqual({ lost: 'dropped', new: 'stored' });
    expect((await store.history('t', 's')).turns.map((t) => t.content)).toEqual(['new']);
  });
});
