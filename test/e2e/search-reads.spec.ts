import type Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import type { Memory as Hit } from '../../apps/cli/src/http/api-types';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

const TURNS = 40;
const K = 3;

/**
 * What a search reads from Redis: the index answers the re-rank depth's hits (RERANK_DEPTH, 150 by default) with what
 * the re-rank needs of each, and the retriever reads the whole turns of the k it keeps (and their neighbours, if
 * asked), not of every hit it re-ranked. Seen with MONITOR on a real redis-server: the HMGETs of the session's turns.
 */
describe('search e2e: the whole turns read are the k kept, not the re-rank depth', () => {
  const redis = new RedisServer();
  let stack: StackHandle;
  let control: Redis;
  let monitor: Redis;
  /** The seqs of the session's turns read with HMGET since the last take. */
  let reads: number[] = [];

  const get = async (path: string): Promise<Hit[]> => {
    const res = await fetch(`${stack.apiUrl}${path}`);
    const body = (await res.json()) as { memories?: Hit[]; message?: string };
    expect([res.status, body.message]).toEqual([200, undefined]);
    return body.memories!;
  };
  /** The reads MONITOR saw since the last take, once the ping sent after the search has come through it too. */
  const take = async (): Promise<number[]> => {
    const marker = `search-reads-${Date.now()}`;
    const seen = new Promise<void>((resolve) => monitor.on('monitor', (_t: string, args: string[]) => args[1] === marker && resolve()));
    await control.echo(marker);
    await seen;
    const out = reads;
    reads = [];
    return out.sort((a, b) => a - b);
  };

  beforeAll(async () => {
    await redis.start();
    // MONITOR starts before anything else talks to Redis: ioredis takes replies that arrive in the same read as
    // MONITOR's OK for replies to commands ("Command queue state error").
    control = redis.client();
    monitor = await control.monitor();
    monitor.on('monitor', (_t: string, [command, key]: string[]) => {
      const seq = /\{[^:]+:long\}:turn:(\d+)$/.exec(key ?? '')?.[1];
      if (command.toLowerCase() === 'hmget' && seq) reads.push(Number(seq));
    });
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', AUTH_MODE: 'none' }), redisUrl: redis.url, log: () => undefined });
    const turns = Array.from({ length: TURNS }, (_, i) => ({ role: 'user', content: `note ${i} about the garden and its ${['roses', 'tomatoes', 'beans'][i % 3]}`, timestamp: Date.UTC(2024, 0, 1 + i) }));
    const res = await fetch(`${stack.apiUrl}/v1/sessions/long/turns?wait=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ turns }) });
    expect(res.status).toBe(200);
    // Once a search has answered, the index has read every turn it was sent: forget the writes' reads.
    await get('/v1/sessions/long/memories?q=garden&k=1');
    await take();
  }, 120_000);

  afterAll(async () => {
    monitor?.disconnect();
    control?.disconnect();
    await stack?.stop();
    await redis.stop();
  });

  it.each(['hybrid', 'vector', 'text'])('reads the whole turns of the k hits kept, in the %s mode', async (mode) => {
    // Every turn of the session matches: the re-rank looks at all 40.
    const hits = await get(`/v1/sessions/long/memories?q=garden&k=${K}&mode=${mode}`);
    expect(hits).toHaveLength(K);
    expect(await take()).toEqual(hits.map((h) => h.seq).sort((a, b) => a - b));
  });

  it("reads the kept hits' neighbours besides, with neighbours=n", async () => {
    const hits = await get(`/v1/sessions/long/memories?q=tomatoes&k=${K}&neighbours=1`);
    expect(hits).toHaveLength(K);
    const around = hits.flatMap((h) => [h.seq - 1, h.seq + 1]).filter((seq) => seq >= 1);
    expect(await take()).toEqual([...hits.map((h) => h.seq), ...around].sort((a, b) => a - b));
    expect(hits.every((h) => h.neighbours!.length === (h.seq === 1 || h.seq === TURNS ? 1 : 2))).toBe(true);
  });
});
