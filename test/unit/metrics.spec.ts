import {
  LATENCY_BUCKETS,
  MAX_HTTP_ROUTES,
  METRIC_NAMES,
  Metrics,
  OPERATIONS,
  PROVIDER_ERROR_KINDS,
} from '@app/memory/metrics';
import type { ProviderErrorKind } from '@app/memory/errors/provider.error';

/** The value of the sample `name{labels}` in the exposition text, whatever the order of its labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (m && m[1] === name && m[2].split(',').sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

/** Every distinct value a label takes in the exposition. */
function labelValues(text: string, label: string): Set<string> {
  return new Set([...text.matchAll(new RegExp(`[{,]${label}="([^"]*)"`, 'g'))].map((m) => m[1]));
}

describe('Metrics', () => {
  it('exposes every fixed name with its type, the default process metrics and the service label', async () => {
    const text = await new Metrics('embedder').metrics();
    const types: Record<keyof typeof METRIC_NAMES, string> = {
      operationDuration: 'histogram',
      queueWait: 'histogram',
      jobDuration: 'histogram',
      embeddingBatchSize: 'histogram',
      providerDuration: 'histogram',
      httpRequestDuration: 'histogram',
      jobs: 'counter',
      hnswFallbacks: 'counter',
      indexRebuilds: 'counter',
      rebuildScans: 'counter',
      indexingFailures: 'gauge',
      searchFailures: 'counter',
      providerErrors: 'counter',
      queueJobs: 'gauge',
      indexVectors: 'gauge',
      indexLag: 'gauge',
      vectorBackendInfo: 'gauge',
      extractionDuration: 'histogram',
      extractedTurns: 'counter',
      memoryChanges: 'counter',
      extractionTokens: 'counter',
      writesShed: 'counter',
      tenantsShed: 'gauge',
      reindexReembedded: 'counter',
      reindexRemaining: 'gauge',
      reindexTotal: 'gauge',
    };
    for (const [key, name] of Object.entries(METRIC_NAMES)) {
      expect(text).toContain(`# TYPE ${name} ${types[key as keyof typeof METRIC_NAMES]}\n`);
    }
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{service="embedder"\} \d+/m);
    expect(labelValues(text, 'service')).toEqual(new Set(['embedder']));
  });

  it('counts tenants shed with 429 as a number, never as a label', async () => {
    const m = new Metrics('api');
    for (let i = 0; i < 50; i++) m.countTenantShed(`tenant-${i % 5}`, i % 2 ? 'concurrent_writes' : 'queued_turns');
    const text = await m.metrics();
    expect(text).toMatch(/^agent_memory_tenants_shed\{service="api"\} 5$/m);
    expect(text).toMatch(/^agent_memory_writes_shed_total\{reason="concurrent_writes",service="api"\} 25$/m);
    expect(text).not.toContain('tenant-');
  });

  it('records the five operations in seconds with the fixed buckets', async () => {
    const m = new Metrics('api');
    for (const op of OPERATIONS) m.observeOperation(op, 'chat', 0.003);
    m.observeOperation('llm', 'chat', 42);
    const text = await m.metrics();
    const name = METRIC_NAMES.operationDuration;
    const les = text
      .split('\n')
      .filter((l) => l.startsWith(`${name}_bucket{`) && l.includes('operation="e2e"'))
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(les).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    const chat = { service: 'api', endpoint: 'chat' };
    expect(sample(text, `${name}_bucket`, { ...chat, le: '0.0025', operation: 'write' })).toBe(0);
    expect(sample(text, `${name}_bucket`, { ...chat, le: '0.005', operation: 'write' })).toBe(1);
    expect(sample(text, `${name}_bucket`, { ...chat, le: '30', operation: 'llm' })).toBe(1);
    expect(sample(text, `${name}_bucket`, { ...chat, le: '+Inf', operation: 'llm' })).toBe(2);
    expect(sample(text, `${name}_sum`, { ...chat, operation: 'llm' })).toBeCloseTo(42.003, 9);
  });

  it('tells the endpoints apart: a write of POST /turns is not a write of a chat cycle', async () => {
    const m = new Metrics('api');
    m.observeOperation('write', 'chat', 0.004);
    m.observeOperation('write', 'turns', 0.001);
    m.observeOperation('write', 'turns', 0.002);
    m.observeOperation('read', 'memories', 0.003);
    const text = await m.metrics();
    const count = `${METRIC_NAMES.operationDuration}_count`;
    expect(sample(text, count, { service: 'api', operation: 'write', endpoint: 'chat' })).toBe(1);
    expect(sample(text, count, { service: 'api', operation: 'write', endpoint: 'turns' })).toBe(2);
    expect(sample(text, count, { service: 'api', operation: 'read', endpoint: 'memories' })).toBe(1);
    expect(labelValues(text, 'endpoint')).toEqual(new Set(['chat', 'turns', 'memories']));
  });

  it('times async work, failures included', async () => {
    const m = new Metrics('retriever');
    await expect(m.timeProvider('llm', 'openai', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const text = await m.metrics();
    expect(sample(text, `${METRIC_NAMES.providerDuration}_count`, { service: 'retriever', provider_kind: 'llm', provider: 'openai' })).toBe(1);
  });

  it('starts job and provider-error counters at zero for every bounded label combination', async () => {
    const m = new Metrics('embedder');
    m.countJob('embed', 'retried');
    m.countProviderError('embedding', 'rate_limit');
    m.countHnswFallback();
    const text = await m.metrics();
    expect(sample(text, METRIC_NAMES.jobs, { service: 'embedder', queue: 'embed', outcome: 'retried' })).toBe(1);
    expect(sample(text, METRIC_NAMES.jobs, { service: 'embedder', queue: 'retrieve', outcome: 'failed' })).toBe(0);
    expect(sample(text, METRIC_NAMES.providerErrors, { service: 'embedder', provider_kind: 'embedding', kind: 'rate_limit' })).toBe(1);
    expect(sample(text, METRIC_NAMES.providerErrors, { service: 'embedder', provider_kind: 'llm', kind: 'connection' })).toBe(0);
    // A Record over the union fails to compile when ProviderError gains a kind this list lacks.
    const everyKind: Record<ProviderErrorKind, true> = {
      rate_limit: true, server: true, timeout: true, bad_response: true, auth: true, bad_request: true, connection: true,
    };
    expect(new Set(PROVIDER_ERROR_KINDS)).toEqual(new Set(Object.keys(everyKind)));
    expect(labelValues(text, 'kind')).toEqual(new Set(PROVIDER_ERROR_KINDS));
    expect(sample(text, METRIC_NAMES.hnswFallbacks, { service: 'embedder' })).toBe(1);
  });

  it('keeps one backend series and refreshes gauges on scrape', async () => {
    const m = new Metrics('retriever');
    let depth = 0;
    m.onScrape(async () => {
      depth += 5;
      m.setQueueJobs('retrieve', { waiting: depth, active: 1, delayed: 0, failed: 2 });
      m.setIndexVectors(1000 + depth);
    });
    m.setVectorBackend('hnsw');
    m.setVectorBackend('exact');
    await m.metrics();
    const text = await m.metrics();
    expect(sample(text, METRIC_NAMES.queueJobs, { service: 'retriever', queue: 'retrieve', state: 'waiting' })).toBe(10);
    expect(sample(text, METRIC_NAMES.queueJobs, { service: 'retriever', queue: 'retrieve', state: 'failed' })).toBe(2);
    expect(sample(text, METRIC_NAMES.indexVectors, { service: 'retriever' })).toBe(1010);
    expect(labelValues(text, 'backend')).toEqual(new Set(['exact']));
    expect(sample(text, METRIC_NAMES.vectorBackendInfo, { service: 'retriever', backend: 'exact' })).toBe(1);
  });

  it('bounds HTTP labels: unknown methods and routes beyond the cap fold into "other"', async () => {
    const m = new Metrics('api');
    m.observeHttp('POST', '/v1/sessions/:session/turns', 201, 0.002);
    m.observeHttp('BREW', '/v1/health', 200, 0.001);
    for (let i = 0; i < MAX_HTTP_ROUTES + 50; i++) m.observeHttp('GET', `/raw/url/${i}`, 404, 0.001);
    const text = await m.metrics();
    const name = METRIC_NAMES.httpRequestDuration;
    expect(sample(text, `${name}_count`, { service: 'api', method: 'POST', route: '/v1/sessions/:session/turns', status: '201' })).toBe(1);
    expect(labelValues(text, 'method')).toEqual(new Set(['POST', 'other', 'GET']));
    expect(labelValues(text, 'route').size).toBe(MAX_HTTP_ROUTES + 1);
    expect(sample(text, `${name}_count`, { service: 'api', method: 'GET', route: 'other', status: '404' })).toBe(52);
  });

  it('accepts only the closed label lists at compile time', () => {
    const m = new Metrics('api');
    // Each line below must fail `tsc --noEmit` (run by `npm run build`); at run time they would all be accepted.
    // @ts-expect-error a session id is not an operation
    m.observeOperation('session-42', 'chat', 1);
    // @ts-expect-error a route is not an endpoint
    m.observeOperation('read', '/v1/sessions/s1/memories', 1);
    // @ts-expect-error unknown queue
    m.countJob('tenant-queue', 'completed');
    // @ts-expect-error unknown provider error kind
    m.countProviderError('llm', 'whatever');
    // @ts-expect-error unknown service
    expect(() => new Metrics('worker-7')).not.toThrow();
    expect(m.service).toBe('api');
  });

  it('keeps separate registries per instance', async () => {
    const a = new Metrics('api');
    const b = new Metrics('api');
    a.countHnswFallback();
    expect(sample(await a.metrics(), METRIC_NAMES.hnswFallbacks, { service: 'api' })).toBe(1);
    expect(sample(await b.metrics(), METRIC_NAMES.hnswFallbacks, { service: 'api' })).toBe(0);
  });
});
