import OpenAI from 'openai';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { OpenAiStructured } from '@app/memory/llm/openai-structured';
import { Metrics } from '@app/memory/metrics/metrics';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { SessionSummaryRepository, type SummaryVersion } from '@app/memory/store/session-summary-repository';
import type { TurnWrite } from '@app/memory/store/turn';
import { SummariseSessionService } from '../../apps/extractor/src/summarise-session/summarise-session.service';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';

/**
 * The summary store's scripts on a real redis-server (write-summary.lua, and the summaries delete-turn.lua and
 * delete-session.lua remove), and the summariser against the OpenAI wire format through the real openai SDK: it
 * never folds in a turn past one still on its way, nor a turn of the recent window.
 */
describe('session summaries (real redis-server)', () => {
  const server = new RedisServer();
  const wire = new OpenAiWireServer({
    dim: 8,
    reply: (messages) => {
      const { turns } = JSON.parse(messages.at(-1)!.content) as { turns: { seq: number }[] };
      return JSON.stringify({ summary: turns.map((t) => `#${t.seq}`).join(' ') });
    },
  });
  let redis: Redis;
  let store: MemoryStore;
  let summaries: SessionSummaryRepository;
  const keys = new KeySchema('mem', 4);

  const turn = (session: string, seq: number): TurnWrite => ({
    tenant: 't',
    session,
    seq,
    turnId: `${session}-${seq}`,
    role: 'user',
    content: `turn ${seq} of ${session}`,
    timestamp: 1_700_000_000_000 + seq,
    tokenCount: 100,
    embedding: new Float32Array([seq, 1]),
  });
  const version = (fromSeq: number, addedFromSeq: number, toSeq: number): SummaryVersion => ({
    text: `up to ${toSeq}`,
    fromSeq,
    toSeq,
    addedFromSeq,
    addedTurns: toSeq - addedFromSeq + 1,
    createdAt: 1,
  });
  /** Stores turns 1..n of a session (accepted and written, as the API and the embedder do). */
  const stored = (session: string, n: number) => store.ingest(Array.from({ length: n }, (_, i) => turn(session, i + 1)));

  beforeAll(async () => {
    await Promise.all([server.start(), wire.start()]);
    redis = new Redis(server.url);
    store = new MemoryStore(redis, keys, { forgetTtlSeconds: 120 });
    summaries = new SessionSummaryRepository(redis, keys, 3);
  });
  afterAll(async () => {
    redis.disconnect();
    await Promise.all([server.stop(), wire.stop()]);
  });
  beforeEach(() => redis.flushall());

  it('writes a version with its watermark only from the watermark read, and only while every summarised turn is stored', async () => {
    await stored('s', 10);
    expect(await summaries.write('t', 's', 0, version(1, 1, 4))).toEqual({ written: true });
    // A replay of the same job: the watermark moved, nothing is written twice.
    expect(await summaries.write('t', 's', 0, version(1, 1, 4))).toEqual({ written: false, reason: 'watermark moved' });
    expect(await store.deleteTurn('t', 's', 's-6')).toEqual({ state: 'stored', seq: 6 });
    // A job that read turn 6 before it was forgotten writes nothing.
    expect(await summaries.write('t', 's', 4, version(1, 5, 8))).toEqual({ written: false, reason: 'turn forgotten' });
    expect(await summaries.write('t', 's', 4, { ...version(1, 5, 8), addedTurns: 3 })).toEqual({ written: true });
    expect(await summaries.watermark('t', 's')).toBe(8);
    // At most three versions are kept, newest first.
    await summaries.write('t', 's', 8, version(1, 9, 9));
    await summaries.write('t', 's', 9, version(1, 10, 10));
    expect((await summaries.versions('t', 's')).map((v) => v.toSeq)).toEqual([10, 9, 8]);
  });

  it('forgetting a turn removes every version that covered it and moves the watermark back; forgetting the session removes them all', async () => {
    await stored('s', 12);
    await summaries.write('t', 's', 0, version(1, 1, 3));
    await summaries.write('t', 's', 3, version(1, 4, 6));
    await summaries.write('t', 's', 6, version(1, 7, 9));
    await store.deleteTurn('t', 's', 's-11'); // not summarised: nothing changes
    expect(await summaries.watermark('t', 's')).toBe(9);
    await store.deleteTurn('t', 's', 's-5');
    expect((await summaries.versions('t', 's')).map((v) => v.toSeq)).toEqual([3]);
    expect(await summaries.watermark('t', 's')).toBe(3);
    await store.deleteTurn('t', 's', 's-2');
    expect(await summaries.versions('t', 's')).toEqual([]);
    expect(await summaries.watermark('t', 's')).toBe(0);
    await summaries.write('t', 's', 0, version(1, 1, 4));
    await store.deleteSession('t', 's');
    expect(await redis.exists(keys.summaries('t', 's'), keys.summarised('t', 's'))).toBe(0);
  });

  it('summarises the turns before the recent window and before the first turn still on its way, and waits for the threshold', async () => {
    const config = loadConfig({ LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, RECENT_TURNS: '2', SUMMARY_THRESHOLD_TOKENS: '300', SUMMARY_MAX_TURNS: '50' });
    const llm = new OpenAiStructured('openai-compatible', new OpenAI({ apiKey: 'x', baseURL: wire.baseURL, maxRetries: 0 }), 'scripted');
    const service = new SummariseSessionService(llm, store, summaries, new Metrics('extractor'), config);
    const accepted = await store.accept('t', 'p', Array.from({ length: 12 }, (_, i) => `p-${i + 1}`));
    if (accepted.status !== 'accepted') throw new Error(accepted.status);
    // Turn 6 is accepted but not stored yet (its embed job is still queued): 1-5 and 7-12 are.
    await store.write([1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12].map((seq) => turn('p', seq)));
    expect(await service.summarise({ tenant: 't', session: 'p' })).toEqual({ turns: 5, versions: 1, watermark: 5 });
    expect((await summaries.current('t', 'p'))?.text).toBe('#1 #2 #3 #4 #5');
    // Turn 6 arrives: 6-10 are summarised (11 and 12 are the recent window), never 1-5 again.
    await store.write([turn('p', 6)]);
    expect(await service.summarise({ tenant: 't', session: 'p' })).toEqual({ turns: 5, versions: 1, watermark: 10 });
    expect(await summaries.current('t', 'p')).toMatchObject({ text: '#6 #7 #8 #9 #10', fromSeq: 1, toSeq: 10, addedFromSeq: 6, addedTurns: 5 });
    // Two more turns: 11 and 12 leave the window, 200 tokens, below the threshold of 300: nothing yet.
    const more = await store.accept('t', 'p', ['p-13', 'p-14']);
    if (more.status !== 'accepted') throw new Error(more.status);
    await store.write([turn('p', 13), turn('p', 14)]);
    expect(await service.summarise({ tenant: 't', session: 'p' })).toEqual({ turns: 0, versions: 0, watermark: 10 });
  });
});
