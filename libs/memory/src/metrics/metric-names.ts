import type { VectorBackendName } from '../config/memory-config';
import type { ProviderErrorKind } from '../errors/provider.error';
import type { SearchFailure } from '../errors/search-reply.error';

/**
 * The metric names, buckets and label values every process exposes. Dashboards, the CLI report and
 * their tests import these, so a rename breaks them at compile time or in CI instead of silently.
 */
export const METRIC_NAMES = {
  operationDuration: 'agent_memory_operation_duration_seconds',
  queueWait: 'agent_memory_queue_wait_seconds',
  jobDuration: 'agent_memory_job_duration_seconds',
  embeddingBatchSize: 'agent_memory_embedding_batch_size',
  providerDuration: 'agent_memory_provider_duration_seconds',
  httpRequestDuration: 'agent_memory_http_request_duration_seconds',
  jobs: 'agent_memory_jobs_total',
  hnswFallbacks: 'agent_memory_hnsw_fallbacks_total',
  indexRebuilds: 'agent_memory_index_rebuilds_total',
  rebuildScans: 'agent_memory_rebuild_scans_total',
  indexingFailures: 'agent_memory_redisearch_indexing_failures',
  searchFailures: 'agent_memory_search_failures_total',
  providerErrors: 'agent_memory_provider_errors_total',
  queueJobs: 'agent_memory_queue_jobs',
  indexVectors: 'agent_memory_index_vectors',
  indexLag: 'agent_memory_index_lag',
  vectorBackendInfo: 'agent_memory_vector_backend_info',
  extractionDuration: 'agent_memory_extraction_duration_seconds',
  extractedTurns: 'agent_memory_extracted_turns_total',
  memoryChanges: 'agent_memory_memory_changes_total',
  extractionTokens: 'agent_memory_extraction_llm_tokens_total',
  writesShed: 'agent_memory_writes_shed_total',
  tenantsShed: 'agent_memory_tenants_shed',
  reindexReembedded: 'agent_memory_reindex_reembedded_total',
  reindexRemaining: 'agent_memory_reindex_remaining',
  reindexTotal: 'agent_memory_reindex_total',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** Buckets of every *_seconds histogram: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];

// Every label value is one of these closed lists (HTTP routes are bounded separately, see Metrics.observeHttp).
export const SERVICES = ['api', 'embedder', 'retriever', 'extractor'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The prototype's five latencies: write (store + embed), read (search + filter), assemble, llm, e2e. */
export const OPERATIONS = ['write', 'read', 'assemble', 'llm', 'e2e'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * The API endpoint an operation was timed in (the `endpoint` label): chat records its five operations; the
 * others one each: POST /turns a write (`turns`: 202 once queued; `turns_wait`: ?wait=true, 200 once
 * searchable), GET /memories and GET /turns a read, DELETE a session a write.
 */
export const ENDPOINTS = ['chat', 'turns', 'turns_wait', 'memories', 'memories_search', 'context', 'history', 'summary', 'sessions', 'forget', 'forget_turn', 'forget_user', 'memories_list', 'memory_history', 'forget_memory'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const JOB_OUTCOMES = ['completed', 'failed', 'retried'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** Why an in-process index rebuilt after start-up: its change log was trimmed past it, or went back in time. */
export const REBUILD_REASONS = ['trimmed', 'rolled_back'] as const;
export type RebuildReasonLabel = (typeof REBUILD_REASONS)[number];

/** Why a tenant's write got 429: too many of its turns queued, or too many of its bulk writes at once on one replica. */
export const SHED_REASONS = ['queued_turns', 'concurrent_writes'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** How long a shed tenant counts in agent_memory_tenants_shed. */
export const TENANT_SHED_WINDOW_SECONDS = 60;

/** What an extraction did to the memories: the mem0 events (a NOOP is 'unchanged'). */
export const MEMORY_CHANGES = ['added', 'updated', 'deleted', 'unchanged'] as const;
export type MemoryChange = (typeof MEMORY_CHANGES)[number];

/** Tokens an extraction's LLM calls used, as the provider reported them. */
export const TOKEN_KINDS = ['prompt', 'completion'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export const PROVIDER_KINDS = ['embedding', 'llm', 'rerank'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** The `kind` label of provider errors: every ProviderError kind. */
export const PROVIDER_ERROR_KINDS = [
  'rate_limit',
  'server',
  'timeout',
  'bad_response',
  'auth',
  'bad_request',
  'connection',
] as const satisfies readonly ProviderErrorKind[];

/** The `reason` label of RediSearch query failures. */
export const SEARCH_FAILURES = ['timeout', 'malformed'] as const satisfies readonly SearchFailure[];

/** The backend actually serving searches ('auto' resolves to one of these at start-up). */
export type VectorBackendInUse = Exclude<VectorBackendName, 'auto'>;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
