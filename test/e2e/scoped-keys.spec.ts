import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { mcpTools } from '../support/mcp-tools';
import { RedisServer } from '../support/redis-server';

type Scope = 'read' | 'write' | 'admin';
type Call = [method: string, path: string, body?: unknown];
/**
 * Every authenticated route: the scope it needs; a call by user u2's key that names user u1's data (its user id, its
 * session, its memory ids); and a call by u1's own key, which passes the guard.
 */
type Route = { scope: Scope; acrossUsers: Call[]; own: Call };

const M = 'AAAAAAAAAAAAAAAA';
const KEY_ID = 'f'.repeat(64);
const ROUTES: Record<string, Route> = {
  'POST /v1/sessions/{sessionId}/turns': {
    scope: 'write',
    acrossUsers: [
      ['POST', '/v1/sessions/u1-s/turns', { role: 'user', content: 'into u1 session' }],
      ['POST', '/v1/sessions/u2-new/turns', { userId: 'u1', role: 'user', content: 'as u1' }],
      ['POST', '/v1/sessions/open-s/turns', { role: 'user', content: 'claiming a session without a user' }],
    ],
    own: ['POST', '/v1/sessions/u1-s/turns?wait=true', { role: 'user', content: 'u1 again' }],
  },
  'POST /v1/sessions/{sessionId}/chat': {
    scope: 'write',
    acrossUsers: [
      ['POST', '/v1/sessions/u1-s/chat', { message: 'hello' }],
      ['POST', '/v1/sessions/u2-new/chat', { message: 'hello', userId: 'u1' }],
    ],
    own: ['POST', '/v1/sessions/u1-s/chat', { message: 'which locker is mine?' }],
  },
  'GET /v1/sessions/{sessionId}/memories': { scope: 'read', acrossUsers: [['GET', '/v1/sessions/u1-s/memories?q=locker']], own: ['GET', '/v1/sessions/u1-s/memories?q=locker'] },
  'GET /v1/sessions/{sessionId}/turns': {
    scope: 'read',
    acrossUsers: [['GET', '/v1/sessions/u1-s/turns'], ['GET', '/v1/sessions/open-s/turns']],
    own: ['GET', '/v1/sessions/u1-s/turns'],
  },
  'GET /v1/sessions/{sessionId}/summary': {
    scope: 'read',
    acrossUsers: [['GET', '/v1/sessions/u1-s/summary'], ['GET', '/v1/sessions/open-s/summary']],
    own: ['GET', '/v1/sessions/u1-s/summary'],
  },
  'POST /v1/memories/search': { scope: 'read', acrossUsers: [['POST', '/v1/memories/search', { query: 'locker', userId: 'u1' }]], own: ['POST', '/v1/memories/search', { query: 'locker' }] },
  'POST /v1/sessions/{sessionId}/context': { scope: 'read', acrossUsers: [['POST', '/v1/sessions/u1-s/context', { query: 'locker', scope: 'user' }]], own: ['POST', '/v1/sessions/u1-s/context', { query: 'locker' }] },
  'GET /v1/sessions': { scope: 'read', acrossUsers: [['GET', '/v1/sessions?userId=u1']], own: ['GET', '/v1/sessions'] },
  'GET /v1/users/{userId}/memories': { scope: 'read', acrossUsers: [['GET', '/v1/users/u1/memories']], own: ['GET', '/v1/users/u1/memories'] },
  'GET /v1/sessions/{sessionId}/long-term-memories': { scope: 'read', acrossUsers: [['GET', '/v1/sessions/u1-s/long-term-memories']], own: ['GET', '/v1/sessions/u1-s/long-term-memories'] },
  'GET /v1/memories/{memoryId}/history': {
    scope: 'read',
    acrossUsers: [['GET', `/v1/memories/u.u1.${M}/history`], ['GET', `/v1/memories/s.u1-s.${M}/history`]],
    own: ['GET', `/v1/memories/u.u1.${M}/history`],
  },
  'DELETE /v1/memories/{memoryId}': {
    scope: 'write',
    acrossUsers: [['DELETE', `/v1/memories/u.u1.${M}`], ['DELETE', `/v1/memories/s.u1-s.${M}`]],
    own: ['DELETE', `/v1/memories/u.u1.${M}`],
  },
  'DELETE /v1/sessions/{sessionId}/turns/{turnId}': { scope: 'write', acrossUsers: [['DELETE', '/v1/sessions/u1-s/turns/t1']], own: ['DELETE', '/v1/sessions/u1-s/turns/t1'] },
  'DELETE /v1/sessions/{sessionId}': { scope: 'write', acrossUsers: [['DELETE', '/v1/sessions/u1-s']], own: ['DELETE', '/v1/sessions/u1-s'] },
  'DELETE /v1/users/{userId}': { scope: 'write', acrossUsers: [['DELETE', '/v1/users/u1']], own: ['DELETE', '/v1/users/u1'] },
  'POST /v1/keys': { scope: 'admin', acrossUsers: [], own: ['POST', '/v1/keys', { userId: 'u1' }] },
  'DELETE /v1/keys/{keyId}': { scope: 'admin', acrossUsers: [], own: ['DELETE', `/v1/keys/${KEY_ID}`] },
  'POST /v1/admin/reindex': { scope: 'admin', acrossUsers: [], own: ['POST', '/v1/admin/reindex', { to: 'local/local/512' }] },
  'GET /v1/admin/reindex': { scope: 'admin', acrossUsers: [], own: ['GET', '/v1/admin/reindex'] },
  'DELETE /v1/admin/reindex': { scope: 'admin', acrossUsers: [], own: ['DELETE', '/v1/admin/reindex'] },
  'POST /v1/chat/completions': {
    scope: 'write',
    acrossUsers: [
      ['POST', '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], metadata: { session_id: 'u1-s' } }],
      ['POST', '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], user: 'u1', metadata: { session_id: 'u2-new' } }],
    ],
    // The stack runs the offline responder, which the proxy cannot forward to: 501 once past the guard.
    own: ['POST', '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], metadata: { session_id: 'u1-s' } }],
  },
  'GET /v1/models': { scope: 'read', acrossUsers: [], own: ['GET', '/v1/models'] },
};

/** Keys bound to a tenant or to one user of it, with scopes: every route checked, REST and MCP. */
describe('scoped API keys', () => {
  const redis = new RedisServer();
  const admin = 'sk-scoped-admin-0123456789abcdef';
  const legacy = 'sk-scoped-legacy-0123456789abcdef';
  const keys: Record<'u1' | 'u2' | 'u1Read' | 'read' | 'write' | 'readWrite', string> = { u1: '', u2: '', u1Read: '', read: '', write: '', readWrite: '' };
  let stack: StackHandle;
  let doc: { paths: Record<string, Record<string, { 'x-required-scope'?: string }>> };

  const call = async (key: string, [method, path, body]: Call) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as Record<string, unknown>;
    // The OpenAI-compatible proxy answers errors in OpenAI's shape: {error: {code, message}}.
    const openAi = typeof json.error === 'object' && json.error !== null ? (json.error as Record<string, unknown>) : undefined;
    return { status: res.status, body: openAi ? { ...json, code: openAi.code, message: openAi.message } : json };
  };
  const issue = async (body: { userId?: string; scopes?: Scope[] }) => {
    const res = await call(admin, ['POST', '/v1/keys', body]);
    expect(res.status).toBe(201);
    return res.body as { key: string; id: string; tenant: string; userId: string | null; scopes: Scope[] };
  };
  const mcp = (key: string) => mcpTools(stack.apiUrl, key);

  beforeAll(async () => {
    await redis.start();
    // A command timeout above the few ms the race test below holds a request's writes for, even on a loaded machine.
    const config = loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `acme:${admin}`, REDIS_COMMAND_TIMEOUT_MS: '5000' });
    stack = await startStack({ config, redisUrl: redis.url, log: () => undefined });
    doc = (await (await fetch(`${stack.apiUrl}/docs-json`)).json()) as typeof doc;
    keys.u1 = (await issue({ userId: 'u1' })).key;
    keys.u2 = (await issue({ userId: 'u2' })).key;
    keys.u1Read = (await issue({ userId: 'u1', scopes: ['read'] })).key;
    keys.read = (await issue({ scopes: ['read'] })).key;
    keys.write = (await issue({ scopes: ['write'] })).key;
    keys.readWrite = (await issue({})).key;
    for (const [session, body] of [
      ['u1-s', { userId: 'u1', turns: [{ id: 't1', role: 'user', content: 'u1 private: my locker is number 4410' }] }],
      ['u2-s', { userId: 'u2', turns: [{ role: 'user', content: 'u2 wonders about lockers' }] }],
      ['open-s', { turns: [{ role: 'user', content: 'a session without a user: the locker room code is 9911' }] }],
    ] as const) {
      expect((await call(admin, ['POST', `/v1/sessions/${session}/turns?wait=true`, body])).status).toBe(200);
    }
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('declares a scope on every served route, and this suite covers each one', () => {
    const served = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(() => path.startsWith('/v1/'))
        .map(([method, op]) => [`${method.toUpperCase()} ${path}`, op['x-required-scope']]),
    );
    expect(Object.fromEntries(served)).toEqual(Object.fromEntries(Object.entries(ROUTES).map(([id, r]) => [id, r.scope])));
  });

  it("answers 403 user_forbidden when a user key names another user's user, session or memory, on every route, and changes nothing", async () => {
    const requests = Object.values(ROUTES).flatMap((r) => r.acrossUsers);
    const answers = [];
    for (const request of requests) {
      const res = await call(keys.u2, request);
      answers.push([request, res.status, res.body.code]);
    }
    expect(answers).toEqual(requests.map((request) => [request, 403, 'user_forbidden']));
    const history = await call(admin, ['GET', '/v1/sessions/u1-s/turns']);
    expect(history.body.total).toBe(1);
    const sessions = (await call(admin, ['GET', '/v1/sessions'])).body.sessions as { sessionId: string; userId: string | null }[];
    expect(sessions.map((s) => [s.sessionId, s.userId])).toEqual([['open-s', null], ['u1-s', 'u1'], ['u2-s', 'u2']]);
  });

  it('answers 403 scope_forbidden to a key without the scope of the route, on every route', async () => {
    const lacking: [keyof typeof keys, Scope[]][] = [['read', ['write', 'admin']], ['write', ['read', 'admin']], ['readWrite', ['admin']], ['u1Read', ['write', 'admin']], ['u1', ['admin']]];
    const answers = [];
    const expected = [];
    for (const [key, scopes] of lacking) {
      for (const [id, route] of Object.entries(ROUTES).filter(([, r]) => scopes.includes(r.scope))) {
        const res = await call(keys[key], route.own);
        answers.push([key, id, res.status, res.body.code, res.body.message]);
        expected.push([key, id, 403, 'scope_forbidden', expect.stringContaining(`lacks the ${route.scope} scope`)]);
      }
    }
    expect(answers).toEqual(expected);
  });

  it("confines a user key's writes, searches and listings to its user: a write without userId is the key's user's", async () => {
    expect((await call(keys.u2, ['POST', '/v1/sessions/u2-new/turns?wait=true', { role: 'user', content: 'u2 keeps a locker too: 2020' }])).status).toBe(200);
    const sessions = (await call(admin, ['GET', '/v1/sessions?limit=500'])).body.sessions as { sessionId: string; userId: string | null }[];
    expect(sessions.find((s) => s.sessionId === 'u2-new')?.userId).toBe('u2');

    const listed = (await call(keys.u2, ['GET', '/v1/sessions'])).body.sessions as { sessionId: string }[];
    expect(listed.map((s) => s.sessionId)).toEqual(['u2-new', 'u2-s']);
    const hits = (await call(keys.u2, ['POST', '/v1/memories/search', { query: 'which locker number', k: 100 }])).body.memories as { userId: string; content: string }[];
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((m) => m.userId === 'u2')).toBe(true);
    expect((await call(keys.u2, ['POST', '/v1/memories/search', { query: 'locker', sessionIds: ['u1-s', 'open-s'] }])).body.memories).toEqual([]);
    // The tenant's own key still reaches everyone.
    const all = (await call(admin, ['POST', '/v1/memories/search', { query: 'locker number', k: 100 }])).body.memories as { userId?: string }[];
    expect(new Set(all.map((m) => m.userId ?? null))).toEqual(new Set(['u1', 'u2', null]));
  });

  it('keeps the MCP tools inside a user key: scope and user checked per tool', async () => {
    const u2 = await mcp(keys.u2);
    try {
      for (const [name, args] of [
        ['store_turns', { sessionId: 'u1-s', turns: [{ role: 'user', content: 'x' }] }],
        ['store_turns', { sessionId: 'u2-mcp', userId: 'u1', turns: [{ role: 'user', content: 'x' }] }],
        ['search_memory', { query: 'locker', userId: 'u1' }],
        ['get_context', { sessionId: 'u1-s', query: 'locker' }],
        ['get_session_summary', { sessionId: 'u1-s' }],
        ['list_sessions', { userId: 'u1' }],
        ['forget_session', { sessionId: 'u1-s' }],
        ['list_memories', { userId: 'u1' }],
        ['list_memories', { sessionId: 'open-s' }],
        ['memory_history', { memoryId: `u.u1.${M}` }],
        ['forget_memory', { memoryId: `s.u1-s.${M}` }],
      ] as const) {
        const result = await u2.tool(name, args);
        expect([name, args, result.isError, result.text]).toEqual([name, args, true, expect.stringContaining('bound to user u2')]);
      }
      const search = await u2.tool('search_memory', { query: 'which locker number', k: 100 });
      expect(search.isError).toBe(false);
      expect(search.text).not.toContain('4410');
      expect(search.text).not.toContain('9911');
      expect((await u2.tool('store_turns', { sessionId: 'u2-mcp', turns: [{ role: 'user', content: 'via MCP' }] })).isError).toBe(false);
      expect(JSON.parse((await u2.tool('list_sessions', {})).text)).toMatchObject({ sessions: [{ sessionId: 'u2-mcp', userId: 'u2' }, { sessionId: 'u2-new' }, { sessionId: 'u2-s' }] });
    } finally {
      await u2.close();
    }
    const readOnly = await mcp(keys.u1Read);
    try {
      expect(await readOnly.tool('store_turns', { sessionId: 'u1-s', turns: [{ role: 'user', content: 'x' }] })).toEqual({ isError: true, text: 'this API key lacks the write scope (it has read)' });
      expect((await readOnly.tool('get_context', { sessionId: 'u1-s', query: 'locker' })).text).toContain('4410');
    } finally {
      await readOnly.close();
    }
  });

  it("lets a user key reach its own user's data on every route", async () => {
    // In the table's order, the deletes last (DELETE /v1/users/u1 ends u1's data).
    for (const [id, route] of Object.entries(ROUTES).filter(([, r]) => r.scope !== 'admin')) {
      const res = await call(keys.u1, route.own);
      expect([id, res.status < 300 || res.status === 404 || (id === 'POST /v1/chat/completions' && res.status === 501)]).toEqual([id, true]);
    }
  });

  it('issues keys only with an admin key: admin never on a user key; revokes only its own tenant\'s; keys stored before scopes keep every scope', async () => {
    expect((await call(admin, ['POST', '/v1/keys', { userId: 'u1', scopes: ['read', 'admin'] }])).status).toBe(400);
    expect((await call(admin, ['POST', '/v1/keys', { scopes: ['delete'] }])).status).toBe(400);
    const issued = await issue({ userId: 'u3', scopes: ['read'] });
    expect(issued).toEqual({ key: expect.stringMatching(/^am_/), id: createHash('sha256').update(issued.key).digest('hex'), tenant: 'acme', userId: 'u3', scopes: ['read'] });

    const client = redis.client();
    try {
      expect(JSON.parse((await client.hget('mem-sys:apikeys', issued.id))!)).toEqual({ tenant: 'acme', user: 'u3', scopes: ['read'] });
      // A digest stored as the bare tenant id, as before scopes: a tenant key with every scope.
      await client.hset('mem-sys:apikeys', createHash('sha256').update(legacy).digest('hex'), 'acme');
      const other = createHash('sha256').update('sk-other-tenant-key').digest('hex');
      await client.hset('mem-sys:apikeys', other, JSON.stringify({ tenant: 'other', scopes: ['read'] }));
      expect((await call(legacy, ['DELETE', `/v1/keys/${other}`])).status).toBe(404);
      expect(await client.hexists('mem-sys:apikeys', other)).toBe(1);
    } finally {
      client.disconnect();
    }
    expect((await call(issued.key, ['GET', '/v1/users/u3/memories'])).status).toBe(200);
    expect((await call(legacy, ['DELETE', `/v1/keys/${issued.id}`])).body).toEqual({ id: issued.id });
    expect((await call(issued.key, ['GET', '/v1/users/u3/memories'])).status).toBe(401);
  });

  it("refuses the store-wide re-index routes to an admin key of any tenant but the operator's (OPERATOR_TENANT)", async () => {
    const answers = [];
    for (const id of ['POST /v1/admin/reindex', 'GET /v1/admin/reindex', 'DELETE /v1/admin/reindex']) {
      const res = await call(admin, ROUTES[id].own);
      answers.push([id, res.status, res.body.code, res.body.message]);
    }
    expect(answers).toEqual(['POST', 'GET', 'DELETE'].map((m) => [`${m} /v1/admin/reindex`, 403, 'scope_forbidden', expect.stringContaining('only the operator tenant')]));
  });

  /**
   * The race (a residue of issue 21): a user key's first write passes the access check (the session does not exist
   * yet), a tenant key's write then creates the session without a user, and only then does the user key's write reach
   * its accept. Before the fix, that accept made the session the user's: the user key reached the tenant's turns.
   */
  it("refuses a user key's write into a session a tenant key created after its access check (REST, chat, MCP): 403 user_forbidden", async () => {
    const u4 = (await issue({ userId: 'u4' })).key;
    const control = redis.client();
    const monitor = await redis.client().monitor();
    const executed: { command: string; source: string }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => executed.push({ command: args.join(' '), source }));
    const writer = new Redis(redis.url, { connectionName: 'tenant-writer' });
    const tenantWrite = new MemoryStore(writer, new KeySchema());
    const viaMcp = await mcp(u4);
    const meta = (session: string) => `mem-sys:{acme:${session}}:meta`;
    /** Whether the client at `addr` (or named `name`) waits, paused, on a script. */
    const pausedOnScript = async (client: string) =>
      String(await control.call('CLIENT', 'LIST'))
        .split('\n')
        .some((l) => (l.includes(` addr=${client} `) || l.includes(` name=${client} `)) && / flags=\w*b/.test(l) && / cmd=eval(sha)? /.test(l));
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 3_000; !(await check()); await new Promise((r) => setTimeout(r, 2))) {
        if (Date.now() > deadline) throw new Error(`not within 3 s: ${what}`);
      }
    };
    // The API's store connection: the one that looks keys up. A request's commands on it run in order; a REST write's
    // accept runs after them on the ingest thread's own connection (MONITOR shows the two in the order they ran).
    expect((await call(u4, ['GET', '/v1/sessions'])).status).toBe(200);
    await until('the key lookup is seen', async () => executed.some((c) => c.command.startsWith('hget mem-sys:apikeys ')));
    const api = executed.find((c) => c.command.startsWith('hget mem-sys:apikeys '))!.source;
    const ingest = /(?:^| )addr=(\S+) .* name=agent-memory:ingest /m.exec(String(await control.call('CLIENT', 'LIST')))![1];
    /**
     * Made certain with CLIENT PAUSE WRITE, under which reads go on and writes wait. The request's writes before its
     * access check (rate limiting) are let through one pause at a time, until it has checked (its read of the
     * session's meta has run) and waits at its first write after: its accept's reservation. The tenant's accept, sent
     * from here, waits behind it; on UNPAUSE Redis runs both in that order, and the user key's accept, sent once its
     * reservation is answered, runs last. Undefined when the reservation ran between two pauses (rare): not the race.
     */
    const raceOnce = async <T>(session: string, userWrite: (session: string) => Promise<T>): Promise<{ result: T } | undefined> => {
      await control.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      const user = userWrite(session);
      /** The API's commands since its access check (its read of the session's meta), if it has checked. */
      const sinceCheck = () => {
        const ran = executed.filter((c) => c.source === api || c.source === ingest).map((c) => c.command);
        const checked = ran.indexOf(`hmget ${meta(session)} user created`);
        return checked === -1 ? undefined : ran.slice(checked + 1);
      };
      const wroteSinceCheck = () => sinceCheck()?.some((c) => /^eval/i.test(c)) ?? false;
      try {
        for (let round = 0; ; round++) {
          await until("the user key's request waits at a write", async () => wroteSinceCheck() || (await pausedOnScript(api)) || (await pausedOnScript(ingest)));
          // What ran before: everything MONITOR shows ahead of this marker.
          await control.echo(`${session}-${round}`);
          await until('MONITOR catches up', async () => executed.some((c) => c.command === `echo ${session}-${round}`));
          if (wroteSinceCheck()) return undefined;
          if (sinceCheck()) break;
          await control.call('CLIENT', 'UNPAUSE');
          await control.call('CLIENT', 'PAUSE', '10000', 'WRITE');
        }
        const tenant = tenantWrite.accept('acme', session, [`${session}-tenant`]);
        await until("the tenant key's accept waits", () => pausedOnScript('tenant-writer'));
        await control.call('CLIENT', 'UNPAUSE');
        expect(await tenant).toMatchObject({ status: 'accepted', user: undefined });
        return { result: await user };
      } finally {
        await control.call('CLIENT', 'UNPAUSE');
        await user.catch(() => undefined);
      }
    };
    const race = async <T>(name: string, userWrite: (session: string) => Promise<T>): Promise<{ session: string; result: T }> => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        const raced = await raceOnce(`${name}-${attempt}`, userWrite);
        if (raced) return { session: `${name}-${attempt}`, ...raced };
      }
      throw new Error(`5 tries at ${name}, and never the race`);
    };
    try {
      const rest = await race('race-rest', (s) => call(u4, ['POST', `/v1/sessions/${s}/turns`, { role: 'user', content: 'mine?' }]));
      const chat = await race('race-chat', (s) => call(u4, ['POST', `/v1/sessions/${s}/chat`, { message: 'mine?' }]));
      const tool = await race('race-mcp', (s) => viaMcp.tool('store_turns', { sessionId: s, turns: [{ role: 'user', content: 'mine?' }] }));
      expect([rest, chat].map((r) => [r.result.status, r.result.body.code])).toEqual([[403, 'user_forbidden'], [403, 'user_forbidden']]);
      expect(tool.result).toEqual({ isError: true, text: `this API key is bound to user u4: session ${tool.session} is not theirs` });
      const owners = new Map(((await call(admin, ['GET', '/v1/sessions?limit=500'])).body.sessions as { sessionId: string; userId: string | null }[]).map((s) => [s.sessionId, s.userId]));
      expect([rest, chat, tool].map((r) => owners.get(r.session))).toEqual([null, null, null]);
    } finally {
      await viaMcp.close();
      monitor.disconnect();
      control.disconnect();
      writer.disconnect();
    }
  });
});
