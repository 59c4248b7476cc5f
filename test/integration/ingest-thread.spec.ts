import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { ApiKeyGrant } from '@app/memory';
import { loadConfig } from '@app/memory/config/load-config';
import { QUEUES } from '@app/memory/queues/job-contracts';
import { queuePrefix } from '@app/memory/queues/queue-prefix';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import type { IngestThread as IngestThreadType } from '../../apps/api/src/write-turns/ingest-thread';
import { RedisServer } from '../support/redis-server';

/** The thread runs compiled code: the class is taken from dist too, beside its thread's file (`npm run build` first). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { IngestThread } = require(join(repoRoot(), 'dist/apps/api/src/write-turns/ingest-thread.js')) as { IngestThread: typeof IngestThreadType };

/**
 * The API's ingest thread on a real redis-server and BullMQ queue: it answers turn writes from their bytes, parses
 * other large bodies, fails
 * the writes in flight with 503 when it dies and is started again, and is closed with the API.
 */
describe('the ingest thread (turn writes off the main thread)', () => {
  const server = new RedisServer();
  const grant: ApiKeyGrant = { tenant: 't', scopes: ['read', 'write'] };
  const never = new AbortController().signal;
  let thread: IngestThreadType;
  let embed: Queue;

  const bytes = (body: unknown) => Buffer.from(JSON.stringify(body));
  /** The status of a rejection (an ApiException from the compiled code: not this test's class). */
  const statusOf = (err: unknown) => (err as { getStatus(): number }).getStatus();

  beforeAll(async () => {
    await server.start();
    // A paused Redis must keep a write in flight, not fail it.
    const env = { ...server.env, REDIS_COMMAND_TIMEOUT_MS: '60000', LOG_LEVEL: 'fatal' };
    thread = new IngestThread(env);
    await thread.onModuleInit();
    embed = new Queue(QUEUES.embed, { connection: server.client(), prefix: queuePrefix(loadConfig(env), QUEUES.embed) });
  });

  afterAll(async () => {
    server.resume();
    await thread.onApplicationShutdown();
    await embed.close();
    await server.stop();
  });

  it("answers a large write from the body's bytes, which it takes over (the main thread keeps none to parse), and enqueues its turns", async () => {
    const body = bytes({ userId: 'alice', turns: [{ id: 'a1', role: 'user', content: 'one '.repeat(2_000) }, { id: 'a2', role: 'assistant', content: 'two' }] });
    const answer = thread.write({ grant, session: 's1', body }, never);
    expect(body.byteLength).toBe(0);
    expect(await answer).toEqual({ ok: true, turns: [{ turnId: 'a1', seq: 1 }, { turnId: 'a2', seq: 2 }] });
    expect(await embed.getWaitingCount()).toBe(2);
    // A small body shares Node's buffer pool: it is copied, and the pool is left alone. A resent id keeps its seq.
    const small = bytes({ id: 'a2', role: 'assistant', content: 'two' });
    expect(await thread.write({ grant, session: 's1', body: small }, never)).toEqual({ ok: true, turns: [{ turnId: 'a2', seq: 2 }] });
    expect(JSON.parse(small.toString())).toEqual({ id: 'a2', role: 'assistant', content: 'two' });
  });

  it("answers bad bodies with the API's error answers, and a user key's write names its user", async () => {
    const write = (body: Buffer | undefined, as = grant) => thread.write({ grant: as, session: 's2', body }, never);
    expect(await write(Buffer.from('{"role": "user",'))).toMatchObject({ ok: false, error: { status: 400, body: { code: 'invalid_json' } } });
    expect(await write(Buffer.alloc(0))).toMatchObject({ ok: false, error: { status: 400, body: { code: 'empty_body' } } });
    expect(await write(undefined)).toMatchObject({ ok: false, error: { status: 400, body: { code: 'invalid_input' } } });
    expect(await write(bytes({ role: 'user', content: '' }))).toMatchObject({ ok: false, error: { status: 400, body: { message: ['content must NOT have fewer than 1 characters'] } } });
    const bob: ApiKeyGrant = { tenant: 't', user: 'bob', scopes: ['write'] };
    expect(await write(bytes({ role: 'user', content: 'hi', userId: 'carol' }), bob)).toMatchObject({ ok: false, error: { status: 403, body: { code: 'user_forbidden' } } });
    expect(await write(bytes({ role: 'user', content: 'hi' }), bob)).toMatchObject({ ok: true });
  });

  it("parses a large body of any route from its bytes, which it takes over, with the API's checks and answers", async () => {
    const value = { query: 'q'.repeat(100_000), nested: { list: [1, 'two', null] } };
    const body = bytes(value);
    const parsed = thread.parse(body);
    expect(body.byteLength).toBe(0);
    expect(await parsed).toEqual(value);
    /** The answer of a refused body (an AnsweredError from the compiled code: not this test's class). */
    const refusal = async (raw: string | Buffer) => ((await thread.parse(Buffer.from(raw)).catch((err: unknown) => err)) as { answer: unknown }).answer;
    expect(await refusal(`{"q":"${'x'.repeat(70_000)}",`)).toMatchObject({ status: 400, body: { code: 'invalid_json' } });
    expect(await refusal('['.repeat(40_000) + ']'.repeat(40_000))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/nested deeper/) } });
    expect(await refusal(`{"q":"${'x'.repeat(70_000)}\\ud800"}`)).toMatchObject({ status: 400, body: { message: expect.stringMatching(/lone surrogate/) } });
    expect(await refusal(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d]))).toMatchObject({ status: 400, body: { message: expect.stringMatching(/not UTF-8/) } });
  });

  it('fails a write in flight with 503 when the thread dies, and a new thread answers the next write', async () => {
    server.pause();
    const inFlight = thread.write({ grant, session: 's3', body: bytes({ role: 'user', content: 'lost?' }) }, never);
    // The thread dies as a crash would end it (an uncaught error, or its heap exhausted).
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'unavailable' });
    expect(statusOf(await inFlight.catch((err: unknown) => err))).toBe(503);
    server.resume();
    // Restarted at once, or a second after the last start (a thread that dies at start-up is not restarted in a loop).
    let next: unknown;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      next = await thread.write({ grant, session: 's3', body: bytes({ id: 'after', role: 'user', content: 'after the crash' }) }, never).catch((err: Error) => err);
      if (!(next instanceof Error)) break;
    }
    expect(next).toMatchObject({ ok: true, turns: [{ turnId: 'after' }] });
  });

  it('rejects at once a write whose client has gone, and goes on answering', async () => {
    server.pause();
    const gone = new AbortController();
    const waiting = thread.write({ grant, session: 's4', body: bytes({ role: 'user', content: 'anyone?' }) }, gone.signal);
    gone.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable' });
    server.resume();
    expect(await thread.write({ grant, session: 's4', body: bytes({ role: 'user', content: 'still here' }) }, never)).toMatchObject({ ok: true });
  });

  it('is closed with the API: a write after answers 503 at once', async () => {
    await thread.onApplicationShutdown();
    const after = await thread.write({ grant, session: 's5', body: bytes({ role: 'user', content: 'late' }) }, never).catch((err: unknown) => err);
    expect(statusOf(after)).toBe(503);
  });
});
