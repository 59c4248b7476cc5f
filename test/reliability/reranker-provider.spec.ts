import { OpenAiWireServer, TEI_MAX_BATCH, type WireFault } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { DIM, type ReliabilityStack, startReliabilityStack } from './support/reliability-stack';

type Hit = { content: string; score: number };

const TURNS = [
  'we walked the dog across the meadow on sunday',
  'the meadow was full of poppies after the rain',
  'a zebra stood still by the fence',
  'dinner was pasta with a lot of garlic',
];
/** The model's view: the zebra turn, which the offline ranking puts below both meadow turns for this query. */
const zebraFirst = (_query: string, text: string) => (text.includes('zebra') ? 0.95 : text.includes('meadow') ? 0.2 : 0.05);
const QUERY = 'meadow walks';

/**
 * The optional reranker model over HTTP, on real processes (API, embedder, retriever) against the wire server's
 * text-embeddings-inference and Cohere/Jina routes: the model's order wins, the request has the real shape, and a
 * failing model degrades the search to the offline re-ranking (counted), never to an error.
 */
describe.each([
  { provider: 'tei', path: '/rerank', env: {} as Record<string, string> },
  { provider: 'cohere', path: '/v1/rerank', env: { RERANK_MODEL: 'rerank-english-v3.0', RERANK_API_KEY: 'rk-wire-0123456789' } },
])('reranker provider $provider', ({ provider, path, env }) => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM });
  let rs: ReliabilityStack;
  let retrieverMetrics: string;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    rs = await startReliabilityStack(redis.url, { RERANK_PROVIDER: provider, RERANK_URL: wire.origin, RERANK_TIMEOUT_MS: '300', ...env });
    retrieverMetrics = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('retriever'))![1];
    const res = await rs.call('POST', '/v1/sessions/walks/turns?wait=true', { turns: TURNS.map((content) => ({ role: 'user', content })) });
    expect(res.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  beforeEach(() => wire.reset());

  const search = async (q: string, k: number, session = 'walks') => {
    const res = await rs.call('GET', `/v1/sessions/${session}/memories?q=${encodeURIComponent(q)}&k=${k}`);
    return { status: res.status, memories: ((await res.json()) as { memories?: Hit[] }).memories ?? [] };
  };
  const reranks = () => wire.requests.filter((r) => r.path === path);
  const errors = async (kind: string) => metricValue(await scrape(retrieverMetrics), 'agent_memory_provider_errors_total', { provider_kind: 'rerank', kind });

  it("ranks by the model's scores, sending every candidate in the real request shape", async () => {
    wire.rerankScore = zebraFirst;
    const { status, memories } = await search(QUERY, 2);
    expect(status).toBe(200);
    expect(memories[0].content).toBe(TURNS[2]);
    expect(reranks()).toHaveLength(1);
    const [{ body, headers }] = reranks();
    const sent = provider === 'tei' ? (body as { texts: string[] }).texts : (body as { documents: string[] }).documents;
    expect([...sent].sort()).toEqual([...TURNS].sort());
    expect(body).toEqual(
      provider === 'tei'
        ? { query: QUERY, texts: sent, truncate: true }
        : { model: 'rerank-english-v3.0', query: QUERY, documents: sent, top_n: TURNS.length, return_documents: false },
    );
    expect(headers.authorization).toBe(provider === 'tei' ? undefined : 'Bearer rk-wire-0123456789');
  });

  const faults: [string, WireFault, string][] = [
    ['a 500', { kind: 'server_error' }, 'server'],
    ['no answer within RERANK_TIMEOUT_MS', { kind: 'slow', delayMs: 5000 }, 'timeout'],
    ['a reply without scores', { kind: 'malformed' }, 'bad_response'],
  ];
  it.each(faults)('answers with the offline ranking on %s, and counts it', async (_, fault, kind) => {
    wire.rerankScore = zebraFirst;
    const before = await errors(kind);
    wire.failNext(1, fault);
    const started = Date.now();
    const { status, memories } = await search(QUERY, 2);
    expect({ status, fast: Date.now() - started < 4000 }).toEqual({ status: 200, fast: true });
    expect(memories.map((m) => m.content).sort()).toEqual([TURNS[0], TURNS[1]].sort());
    expect((await errors(kind)) - before).toBe(1);
    // The next search has the model again.
    expect((await search(QUERY, 2)).memories[0].content).toBe(TURNS[2]);
  });

  it(`sends at most ${TEI_MAX_BATCH} texts a request (TEI's default limit), the batches in parallel, and ranks them all`, async () => {
    const many = Array.from({ length: 45 }, (_, i) => ({ role: 'user', content: `note ${i} about the garden shed${i === 40 ? ' and the zebra' : ''}` }));
    expect((await rs.call('POST', '/v1/sessions/garden/turns?wait=true', { turns: many })).status).toBe(200);
    wire.rerankScore = zebraFirst;
    const { memories } = await search('garden shed', 20, 'garden');
    expect(memories[0].content).toBe(many[40].content);
    const sizes = reranks().map((r) => ((r.body as Record<string, string[]>).texts ?? (r.body as Record<string, string[]>).documents).length);
    expect({ total: sizes.reduce((a, b) => a + b, 0), largest: Math.max(...sizes) }).toEqual({ total: 45, largest: TEI_MAX_BATCH });
  });
});
