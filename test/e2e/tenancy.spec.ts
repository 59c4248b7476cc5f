import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

/** API keys map to tenants; no tenant can see, search or delete another's sessions, on any endpoint. */
describe('tenants and API keys', () => {
  const redis = new RedisServer();
  const keyA = 'sk-tenant-a-0123456789abcdef';
  const keyB = 'sk-tenant-b-0123456789abcdef';
  let stack: StackHandle;

  const call = (method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

  const endpoints: [string, string, unknown?][] = [
    ['POST', '/v1/sessions/shared/turns', { role: 'user', content: 'hello' }],
    ['POST', '/v1/sessions/shared/chat', { message: 'hello' }],
    ['GET', '/v1/sessions/shared/memories?q=secret'],
    ['GET', '/v1/sessions/shared/turns'],
    ['DELETE', '/v1/sessions/shared'],
  ];

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({
      config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `tenant-a:${keyA},tenant-b:${keyB}` }),
      redisUrl: redis.url,
      log: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('answers 401 without a key or with an unknown key, on every endpoint', async () => {
    for (const [method, path, body] of endpoints) {
      expect([path, (await call(method, path, undefined, body)).status]).toEqual([path, 401]);
      expect([path, (await call(method, path, 'sk-not-a-real-key-000000', body)).status]).toEqual([path, 401]);
      expect([path, (await call(method, path, keyA, body, { authorization: `Basic ${keyA}` })).status]).toEqual([path, 401]);
    }
  });

  it('answers 403 when the key belongs to another tenant than the one named', async () => {
    for (const [method, path, body] of endpoints) {
      const res = await call(method, path, keyA, body, { 'x-tenant-id': 'tenant-b' });
      expect([path, res.status]).toEqual([path, 403]);
    }
  });

  it('keeps health and metrics public', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
  });

  it('isolates sessions of the same name between tenants on every endpoint', async () => {
    const a = await call('POST', '/v1/sessions/shared/turns?wait=true', keyA, { role: 'user', content: 'tenant A secret: the launch code is ZEBRA-7781' });
    expect(a.status).toBe(200);

    const historyB = await json(await call('GET', '/v1/sessions/shared/turns', keyB));
    expect(historyB).toEqual({ status: 200, body: { total: 0, offset: 0, turns: [] } });
    const searchB = await json(await call('GET', '/v1/sessions/shared/memories?q=launch%20code%20secret', keyB));
    expect(searchB.body.memories).toEqual([]);
    const chatB = await json(await call('POST', '/v1/sessions/shared/chat', keyB, { message: 'what is the launch code secret?' }));
    expect(chatB.status).toBe(200);
    expect(JSON.stringify([chatB.body.reply, chatB.body.memories])).not.toContain('ZEBRA-7781');
    const deleteB = await call('DELETE', '/v1/sessions/shared', keyB);
    expect(deleteB.status).toBe(200); // B forgets its own session "shared" (its chat turns), never A's

    const historyA = await json(await call('GET', '/v1/sessions/shared/turns', keyA));
    expect(historyA.body.total).toBe(1);
    const searchA = await json(await call('GET', '/v1/sessions/shared/memories?q=launch%20code%20secret', keyA));
    expect(JSON.stringify(searchA.body.memories)).toContain('ZEBRA-7781');
  });

  it('accepts keys issued into Redis by the CLI, for their own tenant only, until they are revoked', async () => {
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), 'keys', ...args, '--redis-url', redis.url], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }).trim();
    const keyC = cli('issue', '--tenant', 'tenant-c');
    expect(keyC).toMatch(/^am_[A-Za-z0-9_-]{32}$/);
    expect((await call('POST', '/v1/sessions/shared/turns?wait=true', keyC, { role: 'user', content: 'tenant C note' })).status).toBe(200);
    const historyC = await json(await call('GET', '/v1/sessions/shared/turns', keyC));
    expect((historyC.body.turns as { content: string }[]).map((t) => t.content)).toEqual(['tenant C note']);
    expect((await call('GET', '/v1/sessions/shared/turns', keyC, undefined, { 'x-tenant-id': 'tenant-a' })).status).toBe(403);

    const client = new Redis(redis.url);
    const stored = await client.hgetall('mem-sys:apikeys');
    client.disconnect();
    expect(stored).toEqual({ [createHash('sha256').update(keyC).digest('hex')]: 'tenant-c' });

    expect(cli('revoke', keyC)).toBe('revoked');
    expect((await call('GET', '/v1/sessions/shared/turns', keyC)).status).toBe(401);
  });
});
