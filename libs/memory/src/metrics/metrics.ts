import { LRUCache } from 'lru-cache';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProviderName, RerankProviderName } from '../config/memory-config';
import type { ProviderErrorKind } from '../errors/provider.error';
import type { SearchFailure } from '../errors/search-reply.error';
import { QUEUES, type QueueName } from '../queues/job-contracts';
import {
  BATCH_SIZE_BUCKETS,
  HTTP_METHODS,
  JOB_OUTCOMES,
  LATENCY_BUCKETS,
  MEMORY_CHANGES,
  type MemoryChange,
  TOKEN_KINDS,
  type TokenKind,
  METRIC_NAMES,
  PROVIDER_ERROR_KINDS,
  PROVIDER_KINDS,
  REBUILD_REASONS,
  type Endpoint,
  SEARCH_FAILURES,
  SHED_REASONS,
  type ShedReason,
  TENANT_SHED_WINDOW_SECONDS,
  type JobOutcome,
  type Operation,
  type ProviderKind,
  type QueueState,
  type RebuildReasonLabel,
  type ServiceName,
  type VectorBackendInUse,
} from './metric-names';
import { startTimer } from './timer';

/** More distinct routes than this means a caller passes raw URLs: the excess is folded into route="other". */
export const MAX_HTTP_ROUTES = 100;

/**
 * One process's metrics, in its own Registry (never prom-client's global one, so tests can build several).
 * Every label value is a typed union: callers cannot put a session id or any user-supplied string in a label.
 * Durations are in seconds.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  private readonly operationDuration = this.histogram(METRIC_NAMES.operationDuration, 'Latency of the agent-cycle operations, by the endpoint that ran them', ['operation', 'endpoint']);
  private readonly queueWait = this.histogram(METRIC_NAMES.queueWait, 'Time a job waited in its queue (processedOn - timestamp)', ['queue']);
  private readonly jobDuration = this.histogram(METRIC_NAMES.jobDuration, 'Processing time of a job', ['queue']);
  private readonly providerDuration = this.histogram(METRIC_NAMES.providerDuration, 'Duration of one embedding or LLM provider call', ['provider_kind', 'provider']);
  private readonly httpDuration = this.histogram(METRIC_NAMES.httpRequestDuration, 'HTTP request duration by route pattern and status', ['method', 'route', 'status']);
  private readonly embeddingBatchSize = new Histogram({
    name: METRIC_NAMES.embeddingBatchSize,
    help: 'Texts per embedding provider call',
    buckets: [...BATCH_SIZE_BUCKETS],
    registers: [this.registry],
  });
  private readonly jobs = new Counter({ name: METRIC_NAMES.jobs, help: 'Jobs by outcome', labelNames: ['queue', 'outcome'], registers: [this.registry] });
  private readonly hnswFallbacks = new Counter({ name: METRIC_NAMES.hnswFallbacks, help: 'Searches answered by the fallback path instead of the HNSW index', registers: [this.registry] });
  private readonly indexRebuilds = new Counter({ name: METRIC_NAMES.indexRebuilds, help: 'In-process index rebuilds after start-up, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly rebuildScans = new Counter({ name: METRIC_NAMES.rebuildScans, help: 'Searches answered by an exact scan read from Redis while the in-process index rebuilt', registers: [this.registry] });
  private readonly indexingFailures = new Gauge({ name: METRIC_NAMES.indexingFailures, help: "Hashes RediSearch failed to index (FT.INFO hash_indexing_failures): turns that are not searchable", registers: [this.registry] });
  private readonly searchFailures = new Counter({ name: METRIC_NAMES.searchFailures, help: 'RediSearch queries that timed out or gave a malformed reply (the search failed)', labelNames: ['reason'], registers: [this.registry] });
  private readonly providerErrors = new Counter({ name: METRIC_NAMES.providerErrors, help: 'Provider call errors by kind', labelNames: ['provider_kind', 'kind'], registers: [this.registry] });
  private readonly queueJobs = new Gauge({ name: METRIC_NAMES.queueJobs, help: 'Jobs in each queue by state', labelNames: ['queue', 'state'], registers: [this.registry] });
  private readonly indexVectors = new Gauge({ name: METRIC_NAMES.indexVectors, help: 'Vectors in the search index', registers: [this.registry] });
  private readonly extractionDuration = this.histogram(METRIC_NAMES.extractionDuration, 'One extraction: reading the turns, the LLM calls, comparing and storing', []);
  private readonly extractedTurns = new Counter({ name: METRIC_NAMES.extractedTurns, help: 'Turns whose facts were extracted', registers: [this.registry] });
  private readonly memoryChanges = new Counter({ name: METRIC_NAMES.memoryChanges, help: 'Long-term memories added, updated, deleted or left unchanged by extractions', labelNames: ['change'], registers: [this.registry] });
  private readonly extractionTokens = new Counter({ name: METRIC_NAMES.extractionTokens, help: "Tokens used by the extractor's LLM calls", labelNames: ['token_kind'], registers: [this.registry] });
  private readonly writesShed = new Counter({ name: METRIC_NAMES.writesShed, help: "Writes answered 429 because the tenant was past one of its own bounds, by reason", labelNames: ['reason'], registers: [this.registry] });
  /** Tenants shed lately: a count, never a tenant label, so a flood of tenants cannot grow the series. */
  private readonly shedTenants = new LRUCache<string, true>({ max: 100_000, ttl: TENANT_SHED_WINDOW_SECONDS * 1000 });
  private readonly tenantsShed = new Gauge({
    name: METRIC_NAMES.tenantsShed,
    help: `Distinct tenants whose writes got 429 (see ${METRIC_NAMES.writesShed}) in the last ${TENANT_SHED_WINDOW_SECONDS} s`,
    registers: [this.registry],
    collect: () => {
      this.shedTenants.purgeStale();
      this.tenantsShed.set(this.shedTenants.size);
    },
  });
  private readonly indexLag = new Gauge({
    name: METRIC_NAMES.indexLag,
    help: 'Writes stored but not yet searchable in this retriever\'s index (change-log entries not applied yet; 0 on RediSearch, which indexes a write as it is stored)',
    labelNames: ['backend'],
    registers: [this.registry],
  });
  private readonly reindexReembedded = new Counter({ name: METRIC_NAMES.reindexReembedded, help: 'Stored turns and memories re-embedded into a new embedding generation', registers: [this.registry] });
  private readonly reindexRemaining = new Gauge({ name: METRIC_NAMES.reindexRemaining, help: "Hashes the running re-index has still to re-embed (0 when none runs; an estimate)", registers: [this.registry] });
  private readonly reindexTotal = new Gauge({ name: METRIC_NAMES.reindexTotal, help: 'Hashes the running re-index set out to re-embed (0 when none runs)', registers: [this.registry] });
  private readonly vectorBackendInfo = new Gauge({ name: METRIC_NAMES.vectorBackendInfo, help: 'The vector backend in use (value 1)', labelNames: ['backend'], registers: [this.registry] });

  private readonly routes = new Set<string>();
  private readonly scrapeHooks: (() => Promise<void> | void)[] = [];

  constructor(readonly service: ServiceName) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    // Counters exist at 0 from the start, so rate() sees their first increment and failure panels are never empty.
    for (const queue of Object.values(QUEUES)) for (const outcome of JOB_OUTCOMES) this.jobs.inc({ queue, outcome }, 0);
    this.reindexReembedded.inc(0);
    for (const reason of REBUILD_REASONS) this.indexRebuilds.inc({ reason }, 0);
    for (const reason of SEARCH_FAILURES) this.searchFailures.inc({ reason }, 0);
    for (const reason of SHED_REASONS) this.writesShed.inc({ reason }, 0);
    for (const change of MEMORY_CHANGES) this.memoryChanges.inc({ change }, 0);
    for (const kind of TOKEN_KINDS) this.extractionTokens.inc({ token_kind: kind }, 0);
    for (const providerKind of PROVIDER_KINDS) {
      for (const kind of PROVIDER_ERROR_KINDS) this.providerErrors.inc({ provider_kind: providerKind, kind }, 0);
    }
  }

  observeOperation(operation: Operation, endpoint: Endpoint, seconds: number): void {
    this.operationDuration.observe({ operation, endpoint }, seconds);
  }

  /** Times one provider call (failures included); count failures with countProviderError. */
  timeProvider<T>(kind: ProviderKind, provider: ProviderName | RerankProviderName, fn: () => Promise<T>): Promise<T> {
    return timed(fn, (s) => this.providerDuration.observe({ provider_kind: kind, provider }, s));
  }

  observeQueueWait(queue: QueueName, seconds: number): void {
    this.queueWait.observe({ queue }, seconds);
  }

  observeJobDuration(queue: QueueName, seconds: number): void {
    this.jobDuration.observe({ queue }, seconds);
  }

  observeEmbeddingBatch(size: number): void {
    this.embeddingBatchSize.observe(size);
  }

  /** `route` is the router's pattern (e.g. '/v1/sessions/:session/turns'), never the raw URL. */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const m = (HTTP_METHODS as readonly string[]).includes(method) ? method : 'other';
    this.httpDuration.observe({ method: m, route: this.boundedRoute(route), status: String(status) }, seconds);
  }

  countJob(queue: QueueName, outcome: JobOutcome): void {
    this.jobs.inc({ queue, outcome });
  }

  observeExtraction(seconds: number, turns: number): void {
    this.extractionDuration.observe(seconds);
    this.extractedTurns.inc(turns);
  }

  countMemoryChange(change: MemoryChange, n: number): void {
    this.memoryChanges.inc({ change }, n);
  }

  countExtractionTokens(kind: TokenKind, n: number): void {
    this.extractionTokens.inc({ token_kind: kind }, n);
  }

  countTenantShed(tenant: string, reason: ShedReason): void {
    this.writesShed.inc({ reason });
    this.shedTenants.set(tenant, true);
  }

  countHnswFallback(): void {
    this.hnswFallbacks.inc();
  }

  countIndexRebuild(reason: RebuildReasonLabel): void {
    this.indexRebuilds.inc({ reason });
  }

  countRebuildScan(): void {
    this.rebuildScans.inc();
  }

  setIndexingFailures(count: number): void {
    this.indexingFailures.set(count);
  }

  countSearchFailure(reason: SearchFailure): void {
    this.searchFailures.inc({ reason });
  }

  countProviderError(kind: ProviderKind, error: ProviderErrorKind): void {
    this.providerErrors.inc({ provider_kind: kind, kind: error });
  }

  setQueueJobs(queue: QueueName, counts: Record<QueueState, number>): void {
    for (const [state, n] of Object.entries(counts)) this.queueJobs.set({ queue, state }, n);
  }

  countReembedded(n: number): void {
    this.reindexReembedded.inc(n);
  }

  setReindexProgress(total: number, remaining: number): void {
    this.reindexTotal.set(total);
    this.reindexRemaining.set(remaining);
  }

  setIndexVectors(count: number): void {
    this.indexVectors.set(count);
  }

  setIndexLag(backend: VectorBackendInUse, writes: number): void {
    this.indexLag.set({ backend }, writes);
  }

  /** Exactly one backend series, valued 1. */
  setVectorBackend(backend: VectorBackendInUse): void {
    this.vectorBackendInfo.reset();
    this.vectorBackendInfo.set({ backend }, 1);
  }

  /** Runs `hook` before each scrape, to refresh gauges that are read on demand (queue depth, index size). */
  onScrape(hook: () => Promise<void> | void): void {
    this.scrapeHooks.push(hook);
  }

  /** The exposition text for /metrics (serve it with `contentType`). */
  async metrics(): Promise<string> {
    // A hook that fails (Redis down) leaves its gauges at their last values: metrics matter most in an outage.
    await Promise.allSettled(this.scrapeHooks.map((hook) => hook()));
    return this.registry.metrics();
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: [...LATENCY_BUCKETS], registers: [this.registry] });
  }

  private boundedRoute(route: string): string {
    if (this.routes.has(route)) return route;
    if (this.routes.size >= MAX_HTTP_ROUTES) return 'other';
    this.routes.add(route);
    return route;
  }
}

async function timed<T>(fn: () => Promise<T>, observe: (seconds: number) => void): Promise<T> {
  const elapsed = startTimer();
  try {
    return await fn();
  } finally {
    observe(elapsed());
  }
}
