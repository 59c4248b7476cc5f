import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

/** The keys of test/fixtures/store-v1.rdb (see make-store-v1.mjs): written by main before layout 2. */
const ACME_KEY = 'sk-acme-fixture-0123456789';
const GLOBEX_KEY = 'am_KqOoScgEaS_gtoCzCCC3Y2bXuF22ecOl';

/** A store written by the previous layout is refused until `cli migrate` moves it; then it works through the API. */
describe('migrating a layout-1 store (a dump written by main before hash-tagged keys)', () => {
  const redis = new RedisServer();
  const logs: string[] = [];
  let stack: StackHandle | undefined;

  const start = () =>
    startStack({
      config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `acme:${ACME_KEY}`, EMBEDDING_DIM: '64' }),
      redisUrl: redis.url,
      log: (name, line) => logs.push(`[${name}] ${line}`),
      readyTimeoutMs: 30_000,
    });
  const migrate = () =>
    execFileSync(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), 'migrate', '--redis-url', redis.url], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    }).trim();
  const call = async (path: string, key = ACME_KEY, init: RequestInit = {}) => {
    const res = await fetch(`${stack!.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    copyFileSync(join(repoRoot(), 'test/fixtures/store-v1.rdb'), join(redis.dir, 'dump.rdb'));
    await redis.start();
  });
  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('refuses to start on the old layout, naming the command that moves it', async () => {
    await expect(start()).rejects.toThrow(/exited/);
    expect(logs.join('\n')).toMatch(/key layout 1; this build uses layout 2.*cli -- migrate/);
  });

  it('moves every session, turn, forgotten session and key, once (a second run changes nothing)', async () => {
    expect(migrate()).toMatch(/from layout 1 to 2: 2 sessions, 5 turns, 1 forgotten sessions/);
    expect(migrate()).toMatch(/already has layout 2/);
    const client = new Redis(redis.url);
    try {
      const left = (await client.keys('mem*')).filter((k) => !k.startsWith('mem-bull:') && !k.includes('{') && k !== 'mem-sys:apikeys' && k !== 'mem-sys:layout');
      expect(left).toEqual([]);
      expect(await new MemoryStore(client, new KeySchema('mem', 4)).sessionNames('acme')).toEqual(['s1', 's2']);
    } finally {
      client.disconnect();
    }
  });

  it('then serves the old turns, searches and keys through the API, and keeps the forgotten session forgotten', async () => {
    stack = await start();
    const s1 = await call('/v1/sessions/s1/turns');
    expect((s1.body.turns as { turnId: string; content: string; metadata?: unknown }[]).map((t) => [t.turnId, t.content])).toEqual([
      ['m1', 'My name is Ada and I live in Lisbon.'],
      ['m2', 'Nice to meet you, Ada.'],
      ['m3', 'I prefer tea over coffee.'],
    ]);
    expect((s1.body.turns as { metadata?: unknown }[])[0].metadata).toEqual({ channel: 'web' });
    expect((await call('/v1/sessions/s2/turns')).body.total).toBe(2);
    const search = await call('/v1/sessions/s1/memories?q=tea%20or%20coffee&windowHours=87600');
    expect((search.body.memories as { content: string }[])[0].content).toBe('I prefer tea over coffee.');
    // An id resent to s1 is still known; s3 was forgotten, and a new turn there does not reuse its seq.
    const resent = await call('/v1/sessions/s1/turns', ACME_KEY, { method: 'POST', body: JSON.stringify({ role: 'user', content: 'again', id: 'm3' }) });
    expect((resent.body.turns as { seq: number }[])[0].seq).toBe(3);
    expect((await call('/v1/sessions/s3/turns')).body.total).toBe(0);
    const fresh = await call('/v1/sessions/s3/turns?wait=true', ACME_KEY, { method: 'POST', body: JSON.stringify({ role: 'user', content: 'new life' }) });
    expect((fresh.body.turns as { seq: number }[])[0].seq).toBe(2);
    expect((await call('/v1/sessions/anything/turns', GLOBEX_KEY)).status).toBe(200);
  });
});
