import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { type ExtractJob, QUEUES } from '@app/memory/queues/job-contracts';
import { ExtractFeed } from '../../apps/embedder/src/embed-turns/extract-feed';
import { waitUntil } from '../reliability/support/wait-until';
import { RedisServer } from '../support/redis-server';

/**
 * How the embedder feeds the extract queue, on a real Redis and BullMQ: one extraction job and one summary job per
 * session however many turns are stored (deduplication, each under its own id), put off by each new turn, due at once on every EXTRACT_AFTER_TURNS-th, never queued
 * with the offline responder, and never failing the write it follows.
 */
describe('the extract feed', () => {
  const server = new RedisServer();
  let redis: Redis;
  let queue: Queue<ExtractJob>;
  const config = (env: Record<string, string> = {}) =>
    loadConfig({ ...server.env, LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', EXTRACT_AFTER_TURNS: '3', EXTRACT_QUIET_MS: '60000', ...env });
  const turn = (session: string, seq: number) => ({ tenant: 't', session, seq });
  const jobs = async () => {
    const all = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
    return Promise.all(all.map(async (j) => ({ id: j.id, session: j.data.session, state: await j.getState() })));
  };
  /** The adds are not awaited by stored(): polls until the queue holds what they made (a fixed wait is a race). */
  const settled = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, 10_000);
  const ids = async (session: string) => (await jobs()).filter((j) => j.session === session).map((j) => `${j.id} ${j.state}`).sort().join();

  beforeAll(async () => {
    await server.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(async () => {
    queue = new Queue(QUEUES.extract, { connection: redis, prefix: 'mem-bull' });
    await queue.obliterate({ force: true });
  });
  afterEach(() => queue.close().catch(() => undefined));
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('queues one delayed extraction and one summary job per session, put off by each turn, and due at once on every third turn', async () => {
    const feed = new ExtractFeed(queue, config());
    /** When the session's job is due (BullMQ scores a delayed job by its due time x 4096). */
    const dueAt = async (id: string) => Math.floor(Number(await redis.zscore(queue.keys.delayed, id)) / 4096);
    feed.stored([turn('a', 1)]);
    await settled('the first turn\'s jobs', async () => (await ids('a')) === 't.a.s1 delayed,t.a.x1 delayed');
    const [first, firstSummary] = [await dueAt('t.a.x1'), await dueAt('t.a.s1')];
    expect(first).toBeGreaterThan(Date.now() + 50_000);
    feed.stored([turn('a', 2), turn('b', 1)]);
    await settled('b\'s jobs, and both of a\'s put off', async () =>
      (await ids('b')) === 't.b.s1 delayed,t.b.x1 delayed' && (await dueAt('t.a.x1')) > first && (await dueAt('t.a.s1')) > firstSummary);
    expect((await jobs()).map((j) => [j.id, j.state]).sort()).toEqual([['t.a.s1', 'delayed'], ['t.a.x1', 'delayed'], ['t.b.s1', 'delayed'], ['t.b.x1', 'delayed']]);
    expect(await dueAt('t.a.x1')).toBeGreaterThan(first); // a debounce: the quiet period starts again
    expect(await dueAt('t.a.s1')).toBeGreaterThan(first);

    // The third turn makes it due now: a worker runs it at once, not after EXTRACT_QUIET_MS.
    const ran: string[] = [];
    const connection = redis.duplicate();
    const worker = new Worker<ExtractJob>(QUEUES.extract, async (job) => void ran.push(job.id!), { connection, prefix: 'mem-bull' });
    try {
      feed.stored([turn('a', 3)]);
      const deadline = Date.now() + 5000;
      while (ran.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(ran.sort()).toEqual(['t.a.s1', 't.a.x1']);
    } finally {
      await worker.close();
      connection.disconnect();
    }
    // A replayed embed job feeds again: one job of each kind, the session's.
    feed.stored([turn('a', 3)]);
    feed.stored([turn('a', 3)]);
    await settled('the replay\'s jobs', async () => (await ids('a')).includes('t.a.s3') && (await ids('a')).includes('t.a.x3'));
    expect((await jobs()).filter((j) => j.session === 'a').map((j) => j.id).sort()).toEqual(['t.a.s3', 't.a.x3']);
  });

  it('queues nothing with the offline responder', async () => {
    // stored() returns before any add when extraction is off, so there is nothing to wait for.
    new ExtractFeed(queue, config({ LLM_PROVIDER: 'local' })).stored([turn('a', 3)]);
    expect(await jobs()).toEqual([]);
  });

  it('never throws into the write when the queue cannot be reached', async () => {
    const feed = new ExtractFeed(queue, config());
    await queue.close();
    expect(() => feed.stored([turn('a', 3)])).not.toThrow();
    // The failed adds settle (and are logged) before the next test's queue is made.
    await new Promise((r) => setTimeout(r, 150));
  });
});
