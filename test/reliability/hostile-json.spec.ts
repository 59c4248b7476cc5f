import { RedisServer } from '../support/redis-server';
import { API_KEY, type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/**
 * JSON that is valid but hostile: nested far deeper than any request needs (which made validation recurse
 * until a RangeError: 500, and stalled the server), and strings that are not well-formed Unicode (which were
 * silently stored as U+FFFD). Both are refused with a 400 from the body parser.
 */
describe('hostile JSON', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  useReliabilityStack(redis, {}, (stack) => (rs = stack));

  const post = async (path: string, body: string | Buffer) => {
    const started = Date.now();
    const res = await fetch(`${rs.stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, text: await res.text(), ms: Date.now() - started };
  };

  it('answers 400 to JSON nested 10,000 levels deep, on every endpoint with a body and anywhere in the body', async () => {
    const bodies = [
      nested(10_000),
      nestedObject(10_000),
      `{"role":"user","content":"x","metadata":${nestedObject(10_000)}}`,
      `{"turns":[{"role":"user","content":"x","metadata":{"deep":${nested(10_000)}}}]}`,
      `{"message":${nested(10_000, '"hi"')}}`,
    ];
    for (const path of ['/v1/sessions/deep/turns', '/v1/sessions/deep/turns?wait=true', '/v1/sessions/deep/chat']) {
      for (const body of bodies) {
        const r = await post(path, body);
        expect([path, body.slice(0, 30), r.status]).toEqual([path, body.slice(0, 30), 400]);
        expect(r.text).toMatch(/nested/);
      }
    }
    // Nesting a real request needs is still accepted.
    expect((await post('/v1/sessions/deep/turns', `{"role":"user","content":"x","metadata":{"a":${nestedObject(10)}}}`)).status).toBe(202);
  });

  it('keeps answering /healthz while four 3.8 MB nested bodies arrive at once', async () => {
    const body = nested(1_900_000);
    let polling = true;
    let slowestHealthMs = 0;
    const poll = (async () => {
      while (polling) {
        const started = Date.now();
        await (await fetch(`${rs.stack.apiUrl}/healthz`)).arrayBuffer();
        slowestHealthMs = Math.max(slowestHealthMs, Date.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const results = await Promise.all(Array.from({ length: 4 }, () => post('/v1/sessions/deep/turns', body)));
    polling = false;
    await poll;
    console.log(JSON.stringify({ test: 'deep-json-stall', bodyBytes: body.length, statuses: results.map((r) => r.status), slowestBodyMs: Math.max(...results.map((r) => r.ms)), slowestHealthMs }));
    expect(results.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(slowestHealthMs).toBeLessThan(1000);
  });

  it('answers bodies over 64 KiB, which the ingest thread parses for every route, as it answers small ones', async () => {
    const pad = 'x'.repeat(70_000);
    const deep = await post('/v1/sessions/deep/chat', `{"message":"${pad}","m":${nested(40_000)}}`);
    expect([deep.status, deep.text]).toEqual([400, expect.stringMatching(/nested deeper/)]);
    const broken = await post('/v1/memories/search', `{"query":"${pad}",`);
    expect([broken.status, broken.text]).toEqual([400, expect.stringMatching(/invalid_json/)]);
    // Parsed, then validated as usual.
    const long = await post('/v1/memories/search', JSON.stringify({ query: pad }));
    expect([long.status, long.text]).toEqual([400, expect.stringMatching(/shorter than or equal to 32000 characters/)]);
    const mcp = await fetch(`${rs.stack.apiUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'y'.repeat(3_000_000) } } }),
    });
    expect([mcp.status, await mcp.text()]).toEqual([200, expect.stringMatching(/shorter than or equal to 32000 characters/)]);
  });

  it('refuses lone surrogates with 400 instead of storing them as U+FFFD, and keeps well-formed text as it was sent', async () => {
    for (const escaped of ['"\\ud800 alone"', '"end \\udfff"', '"\\udc00\\ud800 reversed"']) {
      const r = await post('/v1/sessions/unicode/turns', `{"role":"user","content":${escaped}}`);
      expect([escaped, r.status]).toEqual([escaped, 400]);
      expect(r.text).toMatch(/Unicode/);
    }
    const inMetadata = await post('/v1/sessions/unicode/turns', '{"role":"user","content":"x","metadata":{"\\ud800":"key"}}');
    expect(inMetadata.status).toBe(400);
    const inChat = await post('/v1/sessions/unicode/chat', '{"message":"\\ud83d"}');
    expect(inChat.status).toBe(400);
    // Bytes that are not UTF-8 at all (a lone surrogate's CESU form, a stray continuation byte) are refused too.
    for (const raw of [Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80]), Buffer.from([0xc3])]) {
      const body = Buffer.concat([Buffer.from('{"role":"user","content":"bad '), raw, Buffer.from('"}')]);
      const r = await post('/v1/sessions/unicode/turns', body);
      expect([raw.toString('hex'), r.status]).toEqual([raw.toString('hex'), 400]);
    }

    const text = 'pair 😀 (\\ud83d\\ude00), accents é, CJK 你好';
    expect((await post('/v1/sessions/unicode/turns?wait=true', `{"role":"user","content":"${text}"}`)).status).toBe(200);
    const history = (await (await rs.call('GET', '/v1/sessions/unicode/turns')).json()) as { turns: { content: string }[] };
    expect(history.turns.map((t) => t.content)).toEqual([JSON.parse(`"${text}"`)]);
  });
});
