import { loadConfig } from '@app/memory/config/load-config';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; example?: unknown; default?: unknown; items?: Schema; oneOf?: Schema[] };
type Operation = {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  security?: unknown[];
};
type Document = {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, unknown>> };
  security: unknown[];
};

/** The OpenAPI document at /docs-json: every operation described, and its examples useful when tried, as from /docs. */
describe('OpenAPI document and its examples', () => {
  const redis = new RedisServer();
  const apiKey = 'sk-openapi-0123456789';
  let stack: StackHandle;
  let doc: Document;

  const schemaOf = (s: Schema): Schema => (s.$ref ? doc.components.schemas[s.$ref.split('/').at(-1)!] : s);
  /** The body Swagger UI offers for "Try it out": each property's example or default (nested schemas included). */
  const exampleOf = (s: Schema): unknown => {
    const schema = schemaOf(s);
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (!schema.properties) return undefined;
    return Object.fromEntries(
      Object.entries(schema.properties).flatMap(([name, p]) => {
        const value = exampleOf(p);
        return value === undefined ? [] : [[name, value]];
      }),
    );
  };
  /** Calls an operation as Swagger UI would with its examples: path and query parameters, and the body. */
  const tryIt = async (method: string, path: string, body?: unknown, query = ''): Promise<{ status: number; body: Record<string, unknown> }> => {
    const op = doc.paths[path][method];
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(op.parameters!.find((p) => p.name === name)!.schema!.example)));
    const params = new URLSearchParams(
      (op.parameters ?? []).flatMap((p): [string, string][] => (p.in === 'query' && p.schema?.example !== undefined ? [[p.name, String(p.schema.example)]] : [])),
    ).toString();
    const sent = body ?? (op.requestBody ? exampleOf(op.requestBody.content['application/json'].schema) : undefined);
    const res = await fetch(`${stack.apiUrl}${url}?${[params, query].filter(Boolean).join('&')}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${apiKey}`, ...(sent === undefined ? {} : { 'content-type': 'application/json' }) },
      body: sent === undefined ? undefined : JSON.stringify(sent),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `docs:${apiKey}` }), redisUrl: redis.url, log: () => undefined });
    doc = (await (await fetch(`${stack.apiUrl}/docs-json`)).json()) as Document;
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('describes every operation, old and new, with its response schema and its error schemas', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));
    expect(operations.map((o) => o.id).sort()).toEqual([
      'DELETE /v1/admin/reindex',
      'DELETE /v1/keys/{keyId}',
      'DELETE /v1/memories/{memoryId}',
      'DELETE /v1/sessions/{sessionId}',
      'DELETE /v1/sessions/{sessionId}/turns/{turnId}',
      'DELETE /v1/users/{userId}',
      'GET /healthz',
      'GET /readyz',
      'GET /v1/admin/reindex',
      'GET /v1/memories/{memoryId}/history',
      'GET /v1/models',
      'GET /v1/sessions',
      'GET /v1/sessions/{sessionId}/long-term-memories',
      'GET /v1/sessions/{sessionId}/memories',
      'GET /v1/sessions/{sessionId}/summary',
      'GET /v1/sessions/{sessionId}/turns',
      'GET /v1/users/{userId}/memories',
      'POST /v1/admin/reindex',
      'POST /v1/chat/completions',
      'POST /v1/keys',
      'POST /v1/memories/search',
      'POST /v1/sessions/{sessionId}/chat',
      'POST /v1/sessions/{sessionId}/context',
      'POST /v1/sessions/{sessionId}/turns',
    ]);
    for (const { id, op } of operations) {
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      expect([id, success.length > 0 && success.every(([, r]) => r.content?.['application/json']?.schema !== undefined)]).toEqual([id, true]);
      if (!id.includes('/v1/')) continue;
      // The OpenAI-compatible proxy answers errors in OpenAI's shape.
      const openAi = id.endsWith('/v1/chat/completions') || id.endsWith('/v1/models');
      for (const status of ['401', '403', '429', '503']) {
        const schema = op.responses[status]?.content?.['application/json']?.schema;
        expect([id, status, openAi ? Object.keys(schema?.properties ?? {}) : schema]).toEqual([id, status, openAi ? ['error'] : { $ref: '#/components/schemas/ErrorBody' }]);
      }
      if (!openAi) expect([id, op.responses['400']?.content?.['application/json']?.schema]).toEqual([id, { $ref: '#/components/schemas/ErrorBody' }]);
    }
    // A property typed by its initializer alone used to come out as a reference to an empty "Object" schema.
    expect(Object.keys(doc.components.schemas)).not.toContain('Object');
    const hit = doc.components.schemas.MemoryHit.properties!;
    expect(Object.keys(hit).sort()).toEqual(['content', 'entities', 'kind', 'memoryType', 'metadata', 'neighbours', 'role', 'score', 'seq', 'sessionId', 'similarity', 'tags', 'textScore', 'timestamp', 'turnId', 'userId', 'vectorScore']);
    expect(Object.keys(doc.components.schemas.MemoryView.properties!).sort()).toEqual([
      'content', 'createdAt', 'entities', 'memoryId', 'sessionId', 'sources', 'type', 'userId', 'validFrom',
    ]);
    expect((doc.components.schemas.MemoryVersionView as { required?: string[] }).required).toEqual(expect.arrayContaining(['validFrom', 'validUntil', 'change']));
  });

  it('gives every property of every request body an example or a default, so Swagger UI never makes one up', () => {
    const missing: string[] = [];
    const visit = (s: Schema, at: string, seen: Set<string>): void => {
      if (s.$ref) {
        if (seen.has(s.$ref)) return;
        seen.add(s.$ref);
      }
      const schema = schemaOf(s);
      for (const [name, p] of Object.entries(schema.properties ?? {})) {
        const nested = p.$ref ?? p.items?.$ref;
        if (nested) visit({ $ref: nested }, `${at}.${name}`, seen);
        else if (p.example === undefined && p.default === undefined) missing.push(`${at}.${name}`);
      }
      s.oneOf?.forEach((o) => visit(o, at, seen));
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const body = op.requestBody?.content['application/json'];
        if (body) visit(body.schema, `${method.toUpperCase()} ${path}`, new Set());
      }
    }
    expect(missing).toEqual([]);
  });

  it('uses bearer auth for API keys, not JWTs, on /v1 only, and says where /metrics and /mcp are', () => {
    expect(doc.components.securitySchemes.apiKey).toEqual({ type: 'http', scheme: 'bearer', description: expect.any(String) });
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.info.description).toMatch(/GET \/metrics/);
    expect(doc.info.description).toMatch(/\/mcp/);
  });

  it('has examples that return something useful when tried in order: write, search, context, chat', async () => {
    const turnExamples = doc.paths['/v1/sessions/{sessionId}/turns'].post.requestBody!.content['application/json'].examples!;
    for (const example of Object.values(turnExamples)) {
      const res = await tryIt('post', '/v1/sessions/{sessionId}/turns', example.value, 'wait=true');
      expect([res.status, res.body.turns]).toEqual([200, expect.arrayContaining([expect.objectContaining({ seq: expect.any(Number) })])]);
    }
    const flight = 'My flight to Lisbon leaves on 12 May at 09:40.';
    const session = await tryIt('get', '/v1/sessions/{sessionId}/memories');
    expect([session.status, (session.body.memories as { content: string }[])[0]?.content]).toEqual([200, flight]);
    const all = await tryIt('post', '/v1/memories/search');
    expect([all.status, (all.body.memories as { content: string }[])[0]?.content]).toEqual([200, flight]);
    const context = await tryIt('post', '/v1/sessions/{sessionId}/context');
    // A turn that is both relevant and recent is shown once, as a recent message.
    expect([context.status, (context.body.messages as { content: string }[]).map((m) => m.content)]).toEqual([200, expect.arrayContaining([flight])]);
    const chat = await tryIt('post', '/v1/sessions/{sessionId}/chat');
    expect([chat.status, chat.body.reply]).toEqual([200, expect.stringContaining('09:40')]);
    const listed = await tryIt('get', '/v1/sessions');
    expect([listed.status, (listed.body.sessions as { sessionId: string }[]).map((s) => s.sessionId)]).toEqual([200, ['support-42']]);
    const forgotten = await tryIt('delete', '/v1/sessions/{sessionId}/turns/{turnId}');
    expect([forgotten.status, forgotten.body.turnId]).toEqual([200, 'msg:1']);
  });
});
