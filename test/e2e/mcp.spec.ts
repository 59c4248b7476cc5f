import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadConfig } from '@app/memory/config/load-config';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };

/** The MCP server at /mcp, driven by the official SDK's own client over real HTTP (Streamable HTTP transport). */
describe('MCP server e2e (official SDK client, Streamable HTTP)', () => {
  const redis = new RedisServer();
  const key = 'sk-mcp-tenant-0123456789';
  let stack: StackHandle;
  const clients: Client[] = [];

  const connect = async (apiKey?: string): Promise<Client> => {
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.apiUrl}/mcp`), {
      requestInit: { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} },
    });
    const client = new Client({ name: 'agent-memory-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as ToolResult;
    return { isError: result.isError ?? false, text: result.content[0].text, json: () => JSON.parse(result.content[0].text) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `mcp-tenant:${key}` }), redisUrl: redis.url, log: () => undefined });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stack?.stop();
    await redis.stop();
  });

  it('lists the memory tools, each with an input schema', async () => {
    const client = await connect(key);
    expect(client.getServerVersion()).toMatchObject({ name: 'agent-memory' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['forget_memory', 'forget_session', 'get_context', 'get_session_summary', 'list_memories', 'list_sessions', 'memory_history', 'search_memory', 'store_turns']);
    const store = tools.find((t) => t.name === 'store_turns')!;
    expect(store.inputSchema.required).toEqual(expect.arrayContaining(['sessionId', 'turns']));
  });

  it('stores turns, searches them by user, builds a context, lists and forgets sessions', async () => {
    const client = await connect(key);
    const stored = await call(client, 'store_turns', {
      sessionId: 'trip-1',
      userId: 'alice',
      turns: [
        { id: 'msg:1', role: 'user', content: 'My passport expires in March 2031.', timestamp: '2024-05-01T09:00:00Z', tags: ['travel'] },
        { id: 'msg:2', role: 'assistant', content: 'Thanks, I will remember your passport date.' },
      ],
    });
    expect([stored.isError, stored.json()]).toEqual([false, { turns: [{ turnId: 'msg:1', seq: 1 }, { turnId: 'msg:2', seq: 2 }] }]);
    expect((await call(client, 'store_turns', { sessionId: 'trip-2', userId: 'alice', turns: [{ role: 'user', content: 'Plan a trip to Porto.' }] })).isError).toBe(false);

    const found = await call(client, 'search_memory', { query: 'when does my passport expire', userId: 'alice', k: 3 });
    const memories = found.json().memories as { turnId: string; sessionId: string; userId: string; timestamp: string; tags: string[] }[];
    expect(memories[0]).toMatchObject({ turnId: 'msg:1', sessionId: 'trip-1', userId: 'alice', timestamp: '2024-05-01T09:00:00.000Z', tags: ['travel'] });

    const context = (await call(client, 'get_context', { sessionId: 'trip-2', query: 'when does my passport expire', scope: 'user' })).json();
    const messages = context.messages as { role: string; content: string }[];
    expect(messages[0].role).toBe('system');
    expect(messages[0].content).toContain('My passport expires in March 2031.');
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'Plan a trip to Porto.' });

    const listed = (await call(client, 'list_sessions', { userId: 'alice' })).json();
    expect((listed.sessions as { sessionId: string; turns: number }[]).map((s) => [s.sessionId, s.turns])).toEqual([['trip-1', 2], ['trip-2', 1]]);

    expect((await call(client, 'forget_session', { sessionId: 'trip-2' })).json()).toEqual({ deleted: 1 });
    expect(((await call(client, 'list_sessions', {})).json().sessions as { sessionId: string }[]).map((s) => s.sessionId)).toEqual(['trip-1']);
  });

  it('answers bad arguments and unknown sessions with tool errors the REST API would give, not protocol failures', async () => {
    const client = await connect(key);
    const badId = await call(client, 'store_turns', { sessionId: 'no spaces', turns: [{ role: 'user', content: 'x' }] });
    expect([badId.isError, badId.text]).toEqual([true, expect.stringMatching(/sessionId must match/)]);
    const badTime = await call(client, 'search_memory', { query: 'x', since: 'last week' });
    expect([badTime.isError, badTime.text]).toEqual([true, expect.stringMatching(/since must be an ISO 8601 date-time or epoch milliseconds/)]);
    const conflict = await call(client, 'store_turns', { sessionId: 'trip-1', userId: 'bob', turns: [{ role: 'user', content: 'mine now' }] });
    expect([conflict.isError, conflict.text]).toEqual([true, 'session trip-1 belongs to user alice']);
    const missing = await call(client, 'forget_session', { sessionId: 'never-was' });
    expect([missing.isError, missing.text]).toEqual([true, 'session never-was does not exist']);
    const noUser = await call(client, 'get_context', { sessionId: 'never-was', query: 'x', scope: 'user' });
    expect([noUser.isError, noUser.text]).toEqual([true, expect.stringMatching(/belongs to no user/)]);
  });

  it('lists long-term memories (none: the offline responder extracts nothing) and refuses bad memory ids', async () => {
    const client = await connect(key);
    expect((await call(client, 'list_memories', { userId: 'alice' })).json()).toEqual({ memories: [], total: 0, extraction: false });
    const neither = await call(client, 'list_memories', {});
    expect([neither.isError, neither.text]).toEqual([true, 'give userId or sessionId']);
    const badId = await call(client, 'memory_history', { memoryId: 'nope' });
    expect([badId.isError, badId.text]).toEqual([true, expect.stringMatching(/memoryId must match/)]);
    const unknown = await call(client, 'forget_memory', { memoryId: 'u.alice.AAAAAAAAAAAAAAAA' });
    expect([unknown.isError, unknown.text]).toEqual([true, 'no memory u.alice.AAAAAAAAAAAAAAAA']);
  });

  // Issue 21, defect 13: unknown arguments were dropped silently (REST answers 400), and a JSON-RPC batch repeating
  // a request id got one answer for two requests.
  it('refuses unknown arguments, at the top and inside a turn, as the REST API does', async () => {
    const client = await connect(key);
    const top = await call(client, 'search_memory', { query: 'passport', tenant: 'someone-else' });
    expect([top.isError, top.text]).toEqual([true, expect.stringMatching(/tenant/)]);
    const nested = await call(client, 'store_turns', { sessionId: 'strict', turns: [{ role: 'user', content: 'x', seq: 7 }] });
    expect([nested.isError, nested.text]).toEqual([true, expect.stringMatching(/seq/)]);
    expect(((await call(client, 'list_sessions', {})).json().sessions as { sessionId: string }[]).map((s) => s.sessionId)).not.toContain('strict');
  });

  it('answers every request of a JSON-RPC batch, and refuses a batch that repeats a request id', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${stack.apiUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const request = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    const distinct = await post([request(1, 'list_sessions', {}), request(2, 'search_memory', { query: 'passport' })]);
    expect(distinct.status).toBe(200);
    expect((distinct.body as { id: number }[]).map((a) => a.id).sort()).toEqual([1, 2]);
    const repeated = await post([request(1, 'list_sessions', {}), request(1, 'search_memory', { query: 'passport' })]);
    expect(repeated).toEqual({ status: 400, body: { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/repeats request id 1/) } } });
  });

  it('wants the API key, as the REST API does', async () => {
    await expect(connect()).rejects.toThrow(/401|missing API key/);
    await expect(connect('sk-not-a-real-key-000000')).rejects.toThrow(/401|unknown API key/);
    const res = await fetch(`${stack.apiUrl}/mcp`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } });
    expect(res.status).toBe(405); // stateless: no server-initiated stream
  });

  // Issue 21 item 7: a JSON-RPC batch of 50 store_turns calls of 1,000 turns each stored 47,000 turns in one request.
  it('holds the REST limits per HTTP request however it is batched, and stores nothing past them', async () => {
    const post = (body: unknown) =>
      fetch(`${stack.apiUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
    const storeCall = (id: number, n: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'store_turns', arguments: { sessionId: 'batched', turns: Array.from({ length: n }, (_, i) => ({ role: 'user', content: `batched ${id}.${i}` })) } },
    });
    const tooMany = await post([storeCall(1, 400), storeCall(2, 400), storeCall(3, 400)]);
    expect([tooMany.status, ((await tooMany.json()) as { error: { message: string } }).error.message]).toEqual([400, expect.stringMatching(/at most 1000 turns/)]);
    const manyCalls = await post(Array.from({ length: 21 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'list_sessions', arguments: {} } })));
    expect(manyCalls.status).toBe(400);
    const client = await connect(key);
    expect(((await call(client, 'list_sessions', {})).json().sessions as { sessionId: string }[]).map((s) => s.sessionId)).not.toContain('batched');
    // Within the limit, a batch is served as before.
    const within = await post([storeCall(4, 500), storeCall(5, 500)]);
    expect(within.status).toBe(200);
    expect((await within.json()) as unknown[]).toHaveLength(2);
  });
});
