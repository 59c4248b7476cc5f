import { request } from 'node:http';
import Redis from 'ioredis';
import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, OTHER_KEY, type ReliabilityStack, startReliabilityStack } from './support/reliability-stack';

/** Every id, session or turn, tried below contains this marker; afterwards no Redis key may contain it. */
const MARK = 'zq';

/**
 * Input limits and injection: every broken limit is a 400 (413 for the body) with a message, and ids that
 * could inject into key separators, job ids or RediSearch syntax are refused before anything is written.
 */
describe('input limits and injection', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;

  beforeAll(async () => {
    await redis.start();
    rs = await startReliabilityStack(redis.url);
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await redis.stop();
  });

  const turn = (extra: Record<string, unknown> = {}) => ({ role: 'user', content: 'hello', ...extra });
  const expectRejected = async (res: Response, status = 400) => {
    const text = await res.text();
    expect([res.url, res.status]).toEqual([res.url, status]);
    const message = (JSON.parse(text) as { message?: unknown }).message;
    expect(JSON.stringify(message)).toMatch(/\w{3}/);
    return JSON.stringify(message);
  };

  it('answers 413 to a body over 4 MiB', async () => {
    // node:http, not fetch: the server answers from Content-Length alone and closes, so the client sends only the
    // start of the body; sending all of it would race the close (EPIPE) instead of reading the answer.
    const body = JSON.stringify(turn({ content: 'x'.repeat(4 * 1024 * 1024) }));
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${rs.stack.apiUrl}/v1/sessions/limits/turns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write(body.slice(0, 1024));
    });
    expect(status).toBe(413);
    expect(text).toMatch(/too large/i);
  });

  it('enforces content, batch, k, window and page limits exactly at their bounds', async () => {
    const batch = (n: number) => ({ turns: Array.from({ length: n }, (_, i) => turn({ content: `turn ${i}` })) });
    expect((await rs.call('POST', '/v1/sessions/limits/turns', turn({ content: 'c'.repeat(32_000) }))).status).toBe(202);
    expect(await expectRejected(await rs.call('POST', '/v1/sessions/limits/turns', turn({ content: 'c'.repeat(32_001) })))).toMatch(/content/);
    expect((await rs.call('POST', '/v1/sessions/limits/turns', batch(1000))).status).toBe(202);
    expect(await expectRejected(await rs.call('POST', '/v1/sessions/limits/turns', batch(1001)))).toMatch(/turns/);
    expect((await rs.call('GET', '/v1/sessions/limits/memories?q=turn&k=100')).status).toBe(200);
    expect(await expectRejected(await rs.call('GET', '/v1/sessions/limits/memories?q=turn&k=101'))).toMatch(/k/);
    expect(await expectRejected(await rs.call('POST', '/v1/sessions/limits/chat', { message: 'hi', k: 101 }))).toMatch(/k/);
    expect(await expectRejected(await rs.call('POST', '/v1/sessions/limits/chat', { message: 'hi', windowHours: 1e9 }))).toMatch(/windowHours/);
    expect(await expectRejected(await rs.call('GET', '/v1/sessions/limits/memories?q=turn&windowHours=-1'))).toMatch(/windowHours/);
    expect(await expectRejected(await rs.call('GET', '/v1/sessions/limits/turns?limit=501'))).toMatch(/limit/);
    expect(await expectRejected(await rs.call('GET', '/v1/sessions/limits/turns?offset=-1'))).toMatch(/offset/);
  });

  it('rejects unknown fields and wrong types anywhere with 400', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/sessions/limits/turns', turn({ admin: true })],
      ['POST', '/v1/sessions/limits/turns', { turns: [turn({ seq: 1 })] }],
      ['POST', '/v1/sessions/limits/turns', { turns: [turn()], extra: 1 }],
      ['POST', '/v1/sessions/limits/turns', turn({ content: 42 })],
      ['POST', '/v1/sessions/limits/turns', turn({ timestamp: -1 })],
      ['POST', '/v1/sessions/limits/turns', turn({ timestamp: 1.5 })],
      ['POST', '/v1/sessions/limits/turns', turn({ metadata: 'not an object' })],
      ['POST', '/v1/sessions/limits/turns', { turns: 'not a list' }],
      ['POST', '/v1/sessions/limits/turns', []],
      ['POST', '/v1/sessions/limits/turns', null],
      ['POST', '/v1/sessions/limits/turns', 'a string'],
      ['POST', '/v1/sessions/limits/turns?wait=yes', turn()],
      ['POST', '/v1/sessions/limits/turns?tenant=other', turn()],
      ['POST', '/v1/sessions/limits/chat', { message: 'hi', stream: true }],
      ['POST', '/v1/sessions/limits/chat', { message: ['hi'] }],
      ['GET', '/v1/sessions/limits/memories?q=a&debug=1', undefined],
      ['GET', '/v1/sessions/limits/memories?k=abc&q=a', undefined],
      ['GET', '/v1/sessions/limits/turns?limit=ten', undefined],
    ];
    for (const [method, path, body] of cases) await expectRejected(await rs.call(method, path, body));
    const raw = await fetch(`${rs.stack.apiUrl}/v1/sessions/limits/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"role":"user","content":',
    });
    await expectRejected(raw);
  });

  it('rejects metadata with more than 32 keys (LIMITS.metadataKeys)', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    expect(await expectRejected(await rs.call('POST', '/v1/sessions/limits/turns', turn({ metadata })))).toMatch(/metadata/);
  });

  it('refuses a timestamp beyond the dates JavaScript can represent, or survives it: the session still chats', async () => {
    const write = await rs.call('POST', '/v1/sessions/far-future/turns?wait=true', turn({ timestamp: 1e20 }));
    if (write.status !== 400) {
      expect(write.status).toBe(200);
      const chat = await rs.call('POST', '/v1/sessions/far-future/chat', { message: 'hello again' });
      expect([chat.status, await chat.text()]).toEqual([200, expect.stringContaining('reply')]);
    }
  });

  const badIds = [
    `${MARK}*`, `${MARK}{x}`, `${MARK}}`, `${MARK}|x`, `${MARK}@tenant`, `${MARK}:x`, `${MARK}"x`, `${MARK}'x`, `${MARK}\`x`,
    `${MARK}é`, `${MARK}😀`, `${MARK}\u0000x`, `${MARK}\u200bx`, `${MARK}..x`, `${MARK}.x`, `${MARK} x`, `${MARK}\tx`, `${MARK}\nx`,
    `${MARK}/x`, `${MARK}\\x`, `${MARK}%x`, `${MARK}[x]`, `${MARK}$x`, `${MARK}-${'a'.repeat(62)}`, `${MARK}(x)`, `${MARK}~x`,
  ];

  it('rejects session ids that could inject, on every endpoint, with 400 or 404', async () => {
    expect(`${MARK}-${'a'.repeat(62)}`).toHaveLength(65);
    for (const id of badIds) {
      const s = `/v1/sessions/${encodeURIComponent(id)}`;
      for (const [method, path, body] of [
        ['POST', `${s}/turns`, turn()],
        ['POST', `${s}/chat`, { message: 'hi' }],
        ['GET', `${s}/memories?q=hi`],
        ['GET', `${s}/turns`],
        ['DELETE', s],
      ] as [string, string, unknown?][]) {
        const res = await rs.call(method, path, body);
        // A path that no longer names a session route (e.g. an encoded '/') is a 404; every other one a 400.
        expect([id, method, path, [400, 404].includes(res.status)]).toEqual([id, method, path, true]);
        await res.arrayBuffer();
      }
    }
  });

  it('keeps any printable turn id up to 128 characters verbatim, as a hash field and never in a key or job id', async () => {
    const printable = badIds.filter((id) => !/\p{Cc}/u.test(id));
    const res = await rs.call('POST', '/v1/sessions/printable-ids/turns?wait=true', { turns: printable.map((id) => turn({ id })) });
    expect(res.status).toBe(200);
    const stored = (await (await rs.call('GET', '/v1/sessions/printable-ids/turns?limit=100')).json()) as { turns: { turnId: string }[] };
    expect(stored.turns.map((t) => t.turnId)).toEqual(printable);
  });

  it('rejects turn ids with control characters, lone surrogates or over 128 characters with 400, in single turns and batches', async () => {
    for (const id of [`${MARK}\u0000x`, `${MARK}\tx`, `${MARK}\nx`, `${MARK}\ud800x`, `${MARK}-${'a'.repeat(126)}`, '']) {
      await expectRejected(await rs.call('POST', `/v1/sessions/${MARK}-target/turns`, turn({ id })));
      await expectRejected(await rs.call('POST', `/v1/sessions/${MARK}-target/turns`, { turns: [turn({ id: `${MARK}-ok` }), turn({ id })] }));
    }
  });

  it('refuses a tenant header naming another tenant or a wildcard with 403', async () => {
    for (const tenant of ['other', '*', `${MARK}|other`]) {
      const res = await fetch(`${rs.stack.apiUrl}/v1/sessions/limits/turns`, {
        headers: { authorization: `Bearer ${API_KEY}`, 'x-tenant-id': tenant },
      });
      expect([tenant, res.status]).toEqual([tenant, 403]);
    }
  });

  it('treats query text with search syntax as plain text: no other tenant, no error', async () => {
    expect((await rs.call('POST', '/v1/sessions/shared/turns?wait=true', turn({ content: 'the other tenant secret is OSPREY-5' }), OTHER_KEY)).status).toBe(200);
    for (const q of ['*', '@tenant:{other}', '@tenant:{*} | *', '-@session:{x}', '"secret"', '((', '\\', 'secret => OSPREY', '$param', '%00']) {
      const res = await rs.call('GET', `/v1/sessions/shared/memories?q=${encodeURIComponent(q)}`);
      expect([q, res.status]).toEqual([q, 200]);
      expect(await res.text()).not.toContain('OSPREY');
    }
  });

  /**
   * Issue 21, defect 1: one 256,000-character word made the API tokenise it (super-linear BPE, 77.7 s) even after
   * MaxLength had failed, and 3 MB through MCP's search_memory hung it for 90 s: every tenant waited. Now the length
   * is checked first and tokens are counted in bounded, time-sliced pieces. The other tenant's bound is generous
   * (before: tens of seconds); the figure of the worst stall is measured by `npm run attack` (group long-words).
   */
  it('answers an over-long word with 400 from the length check, while another tenant keeps being answered', async () => {
    const mcpSearch = (query: string) =>
      fetch(`${rs.stack.apiUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memory', arguments: { query } } }),
        signal: AbortSignal.timeout(20_000),
      });
    const other: number[] = [];
    let attacking = true;
    const otherTenant = (async () => {
      while (attacking) {
        const started = performance.now();
        const res = await rs.call('GET', '/v1/sessions/elsewhere/turns', undefined, OTHER_KEY);
        expect(res.status).toBe(200);
        other.push(performance.now() - started);
      }
    })();
    const word = 'x'.repeat(256_000);
    const [rest, mcp, turns] = await Promise.all([
      rs.call('POST', '/v1/memories/search', { query: word }),
      mcpSearch('y'.repeat(3_000_000)),
      // Within the limits: 10 turns of one 32,000-character word each (before: 5.4 s of BPE, a 504 for the other tenant),
      // in one request (more than TENANT_MAX_BULK_WRITES large bodies at once from one tenant get 429: tenant-fairness),
      // waited for, so that their writes are over before the next test counts change-log entries.
      rs.call('POST', '/v1/sessions/long-words/turns?wait=true', { turns: Array.from({ length: 10 }, (_, i) => turn({ content: 'x'.repeat(32_000 - i) })) }),
    ]);
    attacking = false;
    await otherTenant;
    const message = await expectRejected(rest);
    expect(message).toMatch(/shorter than or equal to 32000 characters/);
    expect(message).not.toMatch(/tokens/); // the token count never ran
    expect(JSON.stringify(await mcp.json())).toMatch(/shorter than or equal to 32000 characters/);
    expect(turns.status).toBe(200);
    expect(((await turns.json()) as { turns: unknown[] }).turns).toHaveLength(10);
    expect(other.length).toBeGreaterThan(0);
    expect(Math.max(...other)).toBeLessThan(2000);
  });

  // Issue 21, defect 9: 2,000 DELETEs of memories that do not exist appended 2,000 change-log entries (the partitions
  // are trimmed at 100k: junk deletes could push a stopped retriever into a full rebuild).
  it('appends nothing to the change log for a DELETE of a memory that does not exist', async () => {
    const client = new Redis(redis.url);
    const logged = async () => {
      const streams = await client.keys('*changelog:{*}');
      const lengths = await Promise.all(streams.map((k) => client.xlen(k)));
      return lengths.reduce((a, b) => a + b, 0);
    };
    const probe = new QueueProbe(redis);
    try {
      // The turns written by the tests before are embedded (and logged) first: their entries are not the deletes'.
      await probe.drained('embed', 60_000);
      const before = await logged();
      for (let i = 0; i < 20; i++) {
        for (const id of [`u.ghost.${String(i).padStart(16, 'A')}`, `s.ghost-session.${String(i).padStart(16, 'B')}`]) {
          expect([id, (await rs.call('DELETE', `/v1/memories/${id}`)).status]).toEqual([id, 404]);
        }
      }
      expect(await logged()).toBe(before);
    } finally {
      await probe.close();
      client.disconnect();
    }
  });

  it('wrote nothing for any rejected id: no Redis key contains the marker', async () => {
    const client = new Redis(redis.url);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => k.includes(MARK))).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
