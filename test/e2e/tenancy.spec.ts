import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { mcpTools } from '../support/mcp-tools';
import { REDIS_TARGETS } from '../support/redis-targets';

/** API keys map to tenants; no tenant can see, search or delete another's sessions, on any endpoint or MCP tool. */
describe.each(REDIS_TARGETS)('tenants and API keys on $name', ({ make }) => {
  const redis = make();
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
    ['POST', '/v1/memories/search', { query: 'secret' }],
    ['POST', '/v1/sessions/shared/context', { query: 'secret' }],
    ['GET', '/v1/sessions'],
    ['DELETE', '/v1/sessions/shared/turns/a-secret'],
    ['DELETE', '/v1/users/u-a'],
    ['GET', '/v1/users/u-a/memories'],
    ['GET', '/v1/sessions/shared/long-term-memories'],
    ['GET', '/v1/memories/u.u-a.AAAAAAAAAAAAAAAA/history'],
    ['DELETE', '/v1/memories/u.u-a.AAAAAAAAAAAAAAAA'],
    ['POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ['POST', '/v1/keys', {}],
    ['DELETE', `/v1/keys/${'f'.repeat(64)}`],
  ];
  const mcp = (key: string) => mcpTools(stack.apiUrl, key);

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({
      // Many wrong keys from one address on purpose: the failed-login throttle would answer 429 before the 401s it checks.
      config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `tenant-a:${keyA},tenant-b:${keyB}`, AUTH_FAILURES_PER_MINUTE: '100000', ...redis.env }),
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

  it("keeps every new endpoint and MCP tool inside the tenant: B never sees, lists or deletes A's user, sessions or turns", async () => {
    const secret = { userId: 'u-a', turns: [{ id: 'a-secret', role: 'user', content: 'tenant A user secret: the vault code is OKAPI-5521' }] };
    expect((await call('POST', '/v1/sessions/a-only/turns?wait=true', keyA, secret)).status).toBe(200);
    const q = 'what is the vault code secret';

    const searchB = await json(await call('POST', '/v1/memories/search', keyB, { query: q, k: 100 }));
    expect([searchB.status, searchB.body.memories]).toEqual([200, []]);
    expect((await json(await call('POST', '/v1/memories/search', keyB, { query: q, userId: 'u-a', sessionIds: ['a-only'] }))).body.memories).toEqual([]);
    const contextB = await json(await call('POST', '/v1/sessions/a-only/context', keyB, { query: q }));
    expect(contextB.status).toBe(200);
    expect(JSON.stringify(contextB.body)).not.toContain('OKAPI-5521');
    expect((await call('POST', '/v1/sessions/a-only/context', keyB, { query: q, scope: 'user' })).status).toBe(400); // no such session for B
    expect(JSON.stringify((await json(await call('GET', '/v1/sessions?limit=500', keyB))).body)).not.toContain('a-only');
    expect((await json(await call('GET', '/v1/sessions?userId=u-a', keyB))).body).toEqual({ sessions: [], nextCursor: null });
    expect((await call('DELETE', '/v1/sessions/a-only/turns/a-secret', keyB)).status).toBe(404);
    expect((await call('DELETE', '/v1/users/u-a', keyB)).status).toBe(404);

    const b = await mcp(keyB);
    try {
      for (const [name, args] of [
        ['search_memory', { query: q, k: 100 }],
        ['search_memory', { query: q, userId: 'u-a' }],
        ['get_context', { sessionId: 'a-only', query: q }],
        ['list_sessions', { userId: 'u-a' }],
        ['list_sessions', { limit: 500 }],
      ] as const) {
        const result = await b.tool(name, args);
        expect([name, result.isError]).toEqual([name, false]);
        expect(result.text).not.toContain('OKAPI-5521');
        expect(result.text).not.toContain('a-only');
      }
      expect(await b.tool('forget_session', { sessionId: 'a-only' })).toEqual({ isError: true, text: 'session a-only does not exist' });
      // B's own session of the same name, for a user of the same name, is B's: A's stays A's.
      expect((await b.tool('store_turns', { sessionId: 'a-only', userId: 'u-a', turns: [{ role: 'user', content: 'tenant B note' }] })).isError).toBe(false);
    } finally {
      await b.close();
    }

    const a = await mcp(keyA);
    try {
      expect((await a.tool('search_memory', { query: q, userId: 'u-a' })).text).toContain('OKAPI-5521');
      expect((await a.tool('search_memory', { query: q, userId: 'u-a' })).text).not.toContain('tenant B note');
    } finally {
      await a.close();
    }
    expect((await json(await call('GET', '/v1/sessions/a-only/turns', keyA))).body.total).toBe(1);
  });

  it("keeps users apart inside a tenant: another user's search, context, write and delete never reach a user's turns", async () => {
    await call('POST', '/v1/sessions/u1-s/turns?wait=true', keyA, { userId: 'u1', role: 'user', content: 'u1 private: my locker is number 4410' });
    await call('POST', '/v1/sessions/u2-s/turns?wait=true', keyA, { userId: 'u2', role: 'user', content: 'u2 wonders about lockers' });
    const q = 'which locker number';
    const u2 = (await json(await call('POST', '/v1/memories/search', keyA, { query: q, userId: 'u2', k: 100 }))).body.memories as { userId: string }[];
    expect(u2.length).toBeGreaterThan(0);
    expect(u2.every((m) => m.userId === 'u2')).toBe(true);
    expect((await json(await call('POST', '/v1/memories/search', keyA, { query: q, userId: 'u2', sessionIds: ['u1-s'] }))).body.memories).toEqual([]);
    const context = await json(await call('POST', '/v1/sessions/u2-s/context', keyA, { query: q, scope: 'user' }));
    expect(JSON.stringify(context.body)).not.toContain('4410');
    expect((await call('POST', '/v1/sessions/u1-s/turns', keyA, { userId: 'u2', role: 'user', content: 'taking over' })).status).toBe(409);
    expect((await call('DELETE', '/v1/users/u2', keyA)).status).toBe(200);
    expect(JSON.stringify((await json(await call('POST', '/v1/memories/search', keyA, { query: q, userId: 'u1' }))).body)).toContain('4410');
  });

  it('accepts keys issued into Redis by the CLI, for their own tenant only, until they are revoked', async () => {
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), 'keys', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...redis.env },
      }).trim();
    const keyC = cli('issue', '--tenant', 'tenant-c');
    expect(keyC).toMatch(/^am_[A-Za-z0-9_-]{32}$/);
    expect((await call('POST', '/v1/sessions/shared/turns?wait=true', keyC, { role: 'user', content: 'tenant C note' })).status).toBe(200);
    const historyC = await json(await call('GET', '/v1/sessions/shared/turns', keyC));
    expect((historyC.body.turns as { content: string }[]).map((t) => t.content)).toEqual(['tenant C note']);
    expect((await call('GET', '/v1/sessions/shared/turns', keyC, undefined, { 'x-tenant-id': 'tenant-a' })).status).toBe(403);

    const client = redis.client();
    const stored = await client.hgetall('mem-sys:apikeys');
    client.disconnect();
    const idC = createHash('sha256').update(keyC).digest('hex');
    expect(stored).toEqual({ [idC]: JSON.stringify({ tenant: 'tenant-c', scopes: ['read', 'write'] }) });

    // A read-only key bound to one user: listed (never the key itself), refused a write, revoked by its id.
    const keyU = cli('issue', '--tenant', 'tenant-c', '--user', 'u1', '--scopes', 'read');
    const idU = createHash('sha256').update(keyU).digest('hex');
    expect(cli('list', '--tenant', 'tenant-c').split('\n').sort()).toEqual([`${idC}\ttenant-c\t-\tread,write`, `${idU}\ttenant-c\tu1\tread`].sort());
    expect((await call('GET', '/v1/users/u1/memories', keyU)).status).toBe(200);
    expect((await call('POST', '/v1/sessions/u1-c/turns', keyU, { role: 'user', content: 'x' })).status).toBe(403);
    expect(cli('revoke', idU)).toBe('revoked');
    expect((await call('GET', '/v1/users/u1/memories', keyU)).status).toBe(401);

    expect(cli('revoke', keyC)).toBe('revoked');
    expect((await call('GET', '/v1/sessions/shared/turns', keyC)).status).toBe(401);
  }, 180_000); // five CLI processes, each a Node start-up: slow on a loaded machine
});
