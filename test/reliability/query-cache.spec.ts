import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { DIM, OTHER_KEY, type ReliabilityStack, startReliabilityStack, API_KEY } from './support/reliability-stack';

/**
 * The retriever caches query embeddings. A cache shared by all tenants told a tenant, by timing and by
 * `timings.embed`, whether anyone had recently searched an exact text. With the embedding provider behind
 * the wire server, a cache hit is visible as a missing provider call.
 */
describe('query embedding cache', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let rs: ReliabilityStack;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis.url, { EMBEDDING_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL });
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  const callsFor = (text: string) => wire.requests.filter((r) => JSON.stringify((r.body as { input?: unknown })?.input) === JSON.stringify([text])).length;
  const search = async (key: string, q: string) => {
    const res = await rs.call('GET', `/v1/sessions/probe/memories?q=${encodeURIComponent(q)}`, undefined, key);
    expect(res.status).toBe(200);
    return ((await res.json()) as { timings: { embed: number } }).timings.embed;
  };

  it("does not answer one tenant's query from another tenant's cached embedding", async () => {
    const secret = 'is acme being acquired by globex next quarter';
    await search(OTHER_KEY, secret);
    expect(callsFor(secret)).toBe(1);
    // Another tenant asking the same text must pay for its own embedding: no hit, so nothing to time.
    const embedMs = await search(API_KEY, secret);
    expect(callsFor(secret)).toBe(2);
    // Within a tenant the cache still works.
    const cachedMs = await search(API_KEY, secret);
    expect(callsFor(secret)).toBe(2);
    console.log(JSON.stringify({ test: 'query-cache', providerCalls: callsFor(secret), otherTenantEmbedMs: embedMs, ownCachedEmbedMs: cachedMs }));
  });
});
