import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { ApiKeyGrant } from '@app/memory';
import { loadConfig } from '@app/memory/config/load-config';
import { type EmbedTurnJob, QUEUES } from '@app/memory/queues/job-contracts';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { AccessPolicy } from '../../apps/api/src/auth/access-policy';
import { JobGateway } from '../../apps/api/src/common/job-gateway';
import { WriteTurnsService } from '../../apps/api/src/write-turns/write-turns.service';
import { RedisServer } from '../support/redis-server';

/**
 * Two races of issue 21's residue, made certain by running the steps of the racing requests in the racy order: the
 * API's own services (AccessPolicy, WriteTurnsService with a real JobGateway) on a real redis-server and BullMQ queue.
 */
describe('writes racing other writes of the same session', () => {
  const server = new RedisServer();
  const keys = new KeySchema();
  let redis: Redis;
  let store: MemoryStore;
  let gateway: JobGateway;
  let queues: Queue[];
  let turns: WriteTurnsService;
  let policy: AccessPolicy;
  let maxQueued: number;

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url);
    const config = loadConfig(server.env);
    maxQueued = config.TENANT_MAX_QUEUED;
    const opts = { connection: redis, prefix: 'mem-bull' };
    queues = [new Queue(QUEUES.embed, opts), new Queue(QUEUES.retrieve, opts), new Queue(QUEUES.extract, opts)];
    gateway = new JobGateway(queues[0], queues[1], queues[2], config, keys, redis);
    await gateway.onModuleInit();
    store = new MemoryStore(redis, keys);
    turns = new WriteTurnsService(store, gateway, config);
    policy = new AccessPolicy(store);
  });

  afterAll(async () => {
    await gateway.onApplicationShutdown();
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await server.stop();
  });

  /** What the embedder does with the queued jobs: writes each turn (vectors made up), in queue order. */
  const runQueuedJobs = async () => {
    const jobs = await queues[0].getWaiting();
    await Promise.all(jobs.map((j) => j.remove()));
    return store.write(jobs.map((j) => ({ ...(j.data as EmbedTurnJob), tokenCount: 1, embedding: new Float32Array([1, 0]) })));
  };
  const turn = (id: string) => ({ role: 'user' as const, content: `content of ${id}`, id });

  describe("a user key's first write, while a tenant key creates the same session", () => {
    const u1: ApiKeyGrant = { tenant: 't', user: 'u1', scopes: ['read', 'write'] };

    it('is refused with 403 user_forbidden, as the access check refuses it once the session exists: the session stays without a user', async () => {
      // The guard lets the user key through: the session does not exist yet, so its write would create it for u1.
      expect(await policy.authorize(u1, 'write', { sessionId: 'raced' })).toBe('u1');
      // Before its write reaches the store, a tenant key's write creates the session without a user.
      await turns.write('t', 'raced', [turn('tenant-1')]);
      await expect(turns.write('t', 'raced', [turn('u1-1')], { user: 'u1', userKey: true })).rejects.toMatchObject({ status: 403, code: 'user_forbidden' });
      // Before the fix the write claimed the session: u1's key then reached the tenant's turn.
      expect(await store.sessionOwner('t', 'raced')).toEqual({ exists: true });
      await expect(policy.authorize(u1, 'read', { sessionId: 'raced' })).rejects.toMatchObject({ code: 'user_forbidden' });
      expect((await runQueuedJobs()).map((w) => w.turnId)).toEqual(['tenant-1']);
      expect(await store.queued('t')).toBe(0);
    });

    it("is refused the same way when another user's write created it (not a 409)", async () => {
      expect(await policy.authorize(u1, 'write', { sessionId: 'raced-u2' })).toBe('u1');
      await turns.write('t', 'raced-u2', [turn('u2-1')], { user: 'u2' });
      await expect(turns.write('t', 'raced-u2', [turn('u1-2')], { user: 'u1', userKey: true })).rejects.toMatchObject({ status: 403, code: 'user_forbidden' });
      expect(await store.sessionOwner('t', 'raced-u2')).toEqual({ exists: true, user: 'u2' });
      await runQueuedJobs();
    });

    it("still creates a new session for its user, and writes on into its user's session", async () => {
      await turns.write('t', 'own', [turn('own-1')], { user: 'u1', userKey: true });
      await turns.write('t', 'own', [turn('own-2')], { user: 'u1', userKey: true });
      expect(await store.sessionOwner('t', 'own')).toEqual({ exists: true, user: 'u1' });
      expect((await runQueuedJobs()).map((w) => w.outcome)).toEqual(['stored', 'stored']);
    });
  });

  describe("a resend during a failed request's rollback", () => {
    it('keeps the turn the resend was answered for: stored once, and the queued count exact', async () => {
      // Request A accepts the turn as new; its enqueue then fails (A is about to take the turn back).
      expect(await store.accept('t', 'resend', ['x'], { maxQueued })).toMatchObject({ status: 'accepted', turns: [{ seq: 1, state: 'new' }] });
      // Request B, the client's resend, finds it pending, enqueues its job and is answered.
      expect((await turns.write('t', 'resend', [turn('x')])).turns).toEqual([{ turnId: 'x', seq: 1, state: 'pending' }]);
      // A's rollback (WriteTurnsService.write's catch). Before the fix it removed the pending entry B's job needs.
      await store.unaccept('t', 'resend', [{ turnId: 'x', seq: 1 }]);
      expect((await runQueuedJobs()).map((w) => [w.turnId, w.outcome])).toEqual([['x', 'stored']]);
      expect((await store.history('t', 'resend')).turns.map((t) => t.turnId)).toEqual(['x']);
      expect([await store.queued('t'), await store.pendingSeqs('t', 'resend'), await redis.hlen(keys.resent('t', 'resend'))]).toEqual([0, [], 0]);
      // A later resend finds it stored: nothing is stored twice.
      expect((await turns.write('t', 'resend', [turn('x')])).turns).toEqual([{ turnId: 'x', seq: 1, state: 'stored' }]);
    });

    it('takes the turn back when the resend fails too: both requests failed, nothing stays accepted', async () => {
      expect(await store.accept('t', 'both-fail', ['y'], { maxQueued })).toMatchObject({ turns: [{ seq: 1, state: 'new' }] });
      const events = queues[0].keys.events;
      // Every job add now fails (its XADD of an event: WRONGTYPE); B's rollback runs in WriteTurnsService.write.
      await redis.set(events, 'not a stream');
      try {
        await expect(turns.write('t', 'both-fail', [turn('y')])).rejects.toThrow(/WRONGTYPE/);
      } finally {
        await redis.del(events);
      }
      expect(await store.pendingSeqs('t', 'both-fail')).toEqual([1]); // A may still be answered
      await store.unaccept('t', 'both-fail', [{ turnId: 'y', seq: 1 }]);
      expect([await store.queued('t'), await store.pendingSeqs('t', 'both-fail'), await redis.hlen(keys.resent('t', 'both-fail'))]).toEqual([0, [], 0]);
      // A resend is new again, and stored once.
      expect((await turns.write('t', 'both-fail', [turn('y')])).turns).toEqual([{ turnId: 'y', seq: 2, state: 'new' }]);
      expect((await runQueuedJobs()).map((w) => [w.turnId, w.seq, w.outcome])).toEqual([['y', 2, 'stored']]);
    });
  });
});
