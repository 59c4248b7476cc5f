import fc from 'fast-check';
import { RedisServer } from '../support/redis-server';
import { QueueProbe } from '../reliability/support/queue-probe';
import { API_KEY, DIM, type ReliabilityStack, startReliabilityStack } from '../reliability/support/reliability-stack';
import { auditStore } from '../reliability/support/store-audit';

const RUNS = 10_000;
/** fast-check prints the seed of a failing run; FUZZ_SEED=<seed> replays it. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/** A handful of valid sessions so that reads, writes and deletes meet each other. */
const SESSIONS = ['fz-a', 'fz-b', 'fz-c', 'fz-d', 'fz-e'];
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'role', 'content', 'turns', 'id', 'k', ''];

interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

/** A path segment: percent-encoded, a lone surrogate as the raw bytes of its (invalid) UTF-8 form. */
const segment = (s: string) => s.split(/(\p{Surrogate})/u).map((p) => (/^\p{Surrogate}$/u.test(p) ? '%ED%A0%80' : encodeURIComponent(p))).join('');

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '*', '@tenant:{*}', '..', '%00', 'a'.repeat(70), '{"$gt":""}', '<script>'),
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 1e-320, 101, 100, 1001));
const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
/** JSON with the keys a parser or a validator could trip on. */
const nastyObject = fc.dictionary(fc.oneof(fc.constantFrom(...NASTY_KEYS), text), fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 });

const session = fc.oneof({ arbitrary: fc.constantFrom(...SESSIONS), weight: 8 }, { arbitrary: text, weight: 1 });
/** Ids from a small pool, so the same id is often sent twice (the idempotency path), or any valid id. */
const turnId = fc.oneof(fc.constantFrom(...Array.from({ length: 30 }, (_, i) => `t${i}`)), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));
const validTurn = fc.record(
  {
    role: fc.constantFrom('user', 'assistant', 'system'),
    content: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
    timestamp: fc.nat(),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
    id: turnId,
  },
  { requiredKeys: ['role', 'content'] },
);
/** Any field may be missing or of any type. */
const fuzzyTurn = fc.record(
  { role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), scalar), content: fc.oneof(text, scalar), timestamp: number, metadata: fc.oneof(nastyObject, scalar), id: fc.oneof(turnId, text) },
  { requiredKeys: [] },
);
const turnLike = fc.oneof(
  { arbitrary: validTurn, weight: 6 },
  { arbitrary: fuzzyTurn, weight: 1 },
  { arbitrary: fc.tuple(validTurn, nastyObject).map(([t, extra]) => ({ ...extra, ...t })), weight: 1 },
);

const bodies: Record<string, fc.Arbitrary<unknown>> = {
  turns: fc.oneof(
    { arbitrary: turnLike, weight: 4 },
    { arbitrary: fc.record({ turns: fc.array(validTurn, { minLength: 1, maxLength: 5 }) }), weight: 3 },
    { arbitrary: fc.record({ turns: fc.array(turnLike, { maxLength: 5 }) }), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  ),
  chat: fc.oneof(
    { arbitrary: fc.record({ message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }), k: fc.integer({ min: 1, max: 100 }), windowHours: fc.double({ min: 0, max: 1000, noNaN: true }) }, { requiredKeys: ['message'] }), weight: 4 },
    { arbitrary: fc.record({ message: fc.oneof(text, scalar), k: fc.oneof(fc.integer({ min: -5, max: 120 }), number), windowHours: number }, { requiredKeys: [] }), weight: 1 },
    { arbitrary: nastyObject, weight: 1 },
  ),
};

const fuzzyQuery = fc
  .dictionary(fc.oneof(fc.constantFrom('wait', 'q', 'k', 'windowHours', 'offset', 'limit', '__proto__'), text), fc.oneof(text, number.map(String), fc.constantFrom('true', 'false')), { maxKeys: 4 })
  .map((q) => new URLSearchParams(q).toString());
const validQuery = fc
  .record(
    { q: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }), k: fc.integer({ min: 1, max: 100 }), windowHours: fc.integer({ min: 0, max: 1000 }), offset: fc.nat(50), limit: fc.integer({ min: 1, max: 500 }) },
    { requiredKeys: [] },
  )
  .map((q) => new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString());
const query = fc.oneof({ arbitrary: validQuery, weight: 3 }, { arbitrary: fuzzyQuery, weight: 1 });
const writeQuery = fc.oneof({ arbitrary: fc.constant(''), weight: 4 }, { arbitrary: fc.constant('wait=true'), weight: 2 }, { arbitrary: fuzzyQuery, weight: 1 });

/** A raw body: JSON of the endpoint's shape, random JSON, or bytes that are not JSON at all. */
const rawBody = (shape: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: shape.map((b) => JSON.stringify(b)), weight: 12 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
    { arbitrary: fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"role":"user","content":"x"', '[', 'null', '""', '{}'), weight: 1 },
  );

const request: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { arbitrary: fc.record({ session, q: writeQuery, body: rawBody(bodies.turns) }).map(({ session, q, body }) => ({
    method: 'POST',
    path: `/v1/sessions/${segment(session)}/turns?${q}`,
    body,
  })), weight: 6 },
  { arbitrary: fc.record({ session, body: rawBody(bodies.chat) }).map(({ session, body }) => ({ method: 'POST', path: `/v1/sessions/${segment(session)}/chat`, body })), weight: 2 },
  { arbitrary: fc.record({ session, q: query }).map(({ session, q }) => ({ method: 'GET', path: `/v1/sessions/${segment(session)}/memories?${q}` })), weight: 3 },
  { arbitrary: fc.record({ session, q: query }).map(({ session, q }) => ({ method: 'GET', path: `/v1/sessions/${segment(session)}/turns?${q}` })), weight: 3 },
  { arbitrary: fc.record({ session }).map(({ session }) => ({ method: 'DELETE', path: `/v1/sessions/${segment(session)}` })), weight: 1 },
  { arbitrary: fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
    path: fc.oneof(text.map((t) => `/v1/sessions/${segment(t)}/${segment(t)}`), fc.webPath(), fc.constantFrom('/v1', '/v1/sessions', '/v1/sessions//turns', '/docs', '/v1/sessions/%FF/turns', '/v1/sessions/%/turns', '/v1/sessions/%C0%AF/chat', '/v1/sessions/fz-a/turns/..%2F..%2Fmetrics')),
    body: fc.option(rawBody(fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'),
  }), weight: 2 },
);

/**
 * Fuzzes the HTTP API over real HTTP with fast-check: valid and invalid methods, paths, ids, bodies and queries
 * (random JSON, wrong types, huge numbers, unicode, control characters, prototype-pollution keys). Only 2xx and
 * 4xx may come back, never a 5xx or a dropped connection, and the store is consistent afterwards.
 */
describe('HTTP API fuzzing', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    await redis.start();
    rs = await startReliabilityStack(redis.url, { RATE_LIMIT_PER_MINUTE: '1000000' });
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await redis.stop();
  });

  const send = async (r: FuzzRequest): Promise<{ status: number; text: string }> => {
    const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
    const res = await fetch(`${rs.stack.apiUrl}${r.path}`, {
      method: r.method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(withBody ? { 'content-type': r.contentType ?? 'application/json' } : {}) },
      body: withBody ? r.body : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return { status: res.status, text };
  };

  it(`answers ${RUNS} random requests with 2xx or 4xx only, and leaves the store consistent`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { status, text } = await send(r);
        // Thrown, not returned, so that the report shows what the API answered.
        if (status >= 500 || status < 200 || (status >= 300 && status < 400)) throw new Error(`HTTP ${status}: ${text.slice(0, 500)}\n${rs.logs.grep(/ERROR|Error/).slice(-5).join('\n')}`);
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    const fuzzMs = Date.now() - started;

    const probe = new QueueProbe(redis.url);
    try {
      await probe.drained('embed', 30_000, () => rs.logs.tail());
      // A failed embed job is an acknowledged turn that was never stored.
      expect(await probe.failedReasons('embed')).toEqual([]);
    } finally {
      await probe.close();
    }
    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    expect((await fetch(`${rs.stack.apiUrl}/readyz`)).status).toBe(200);
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(requests).toBeGreaterThanOrEqual(RUNS);
    console.log(JSON.stringify({ test: 'http-fuzz', requests, fuzzMs, statuses: Object.fromEntries(statuses), sessions: audit.sessions.size, turnHashes: audit.turnHashes }));
  }, 300_000);
});
