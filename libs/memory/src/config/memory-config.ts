import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min, ValidateIf } from 'class-validator';

export const VECTOR_BACKENDS = ['auto', 'redisearch', 'hnsw', 'exact'] as const;
export const PROVIDERS = ['local', 'openai', 'azure', 'openai-compatible'] as const;
export type VectorBackendName = (typeof VECTOR_BACKENDS)[number];
export type ProviderName = (typeof PROVIDERS)[number];
/** The wire format of an optional reranker model over HTTP: none (off), text-embeddings-inference, or Cohere/Jina-style. */
export const RERANK_PROVIDERS = ['none', 'tei', 'cohere'] as const;
export type RerankProviderName = (typeof RERANK_PROVIDERS)[number];

const CLUSTER_NODE = String.raw`(rediss?://([^\s,@/]+@)?)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}`;
const CLUSTER_NODES = new RegExp(`^${CLUSTER_NODE}(,${CLUSTER_NODE})*$`);

const needsAzure = (c: MemoryConfig) => c.EMBEDDING_PROVIDER === 'azure' || c.LLM_PROVIDER === 'azure';
const needsOpenAiKey = (c: MemoryConfig) => c.EMBEDDING_PROVIDER === 'openai' || c.LLM_PROVIDER === 'openai';
const needsBaseUrl = (c: MemoryConfig) =>
  c.EMBEDDING_PROVIDER === 'openai-compatible' || c.LLM_PROVIDER === 'openai-compatible';

/**
 * The whole environment, validated once at boot (see load-config.ts).
 * Every default is an offline one, so the service runs with no keys at all.
 * `.env.example` documents each variable; keep the two in step.
 */
export class MemoryConfig {
  // Redis
  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * Cluster mode: seed nodes `host:port,host:port,...` of a Redis Cluster (REDIS_URL is then unused). A node may be
   * written as a URL, `redis[s]://[user:password@]host:port`; the first node's credentials and TLS apply to all.
   */
  @IsOptional()
  @Matches(CLUSTER_NODES, { message: 'REDIS_CLUSTER_NODES must be comma-separated host:port (or redis[s]://[user:password@]host:port) seed nodes' })
  REDIS_CLUSTER_NODES?: string;

  @Matches(/^[a-z][a-z0-9_-]{0,31}$/)
  KEY_PREFIX = 'mem';

  /**
   * A Redis command without a reply after this long fails (503 at the API) instead of waiting: a hung Redis keeps its
   * connections open, so only a deadline notices it. Blocking reads (workers, job events) keep their own, longer ones.
   */
  @Type(() => Number) @IsInt() @Min(50)
  REDIS_COMMAND_TIMEOUT_MS = 1000;

  /** Streams the change log is split into (each its own cluster slot); change it only with every process stopped. */
  @Type(() => Number) @IsInt() @Min(1) @Max(256)
  CHANGELOG_PARTITIONS = 4;

  /** How long a deleted session's seq counter outlives it, so no job id is reused while its old jobs may still run. */
  @Type(() => Number) @IsInt() @Min(60)
  FORGET_TTL_SECONDS = 86400;

  // Vector index
  @IsIn(VECTOR_BACKENDS)
  VECTOR_BACKEND: VectorBackendName = 'auto';

  @Type(() => Number) @IsInt() @Min(2) @Max(128)
  HNSW_M = 16;

  @Type(() => Number) @IsInt() @Min(10) @Max(2000)
  HNSW_EF_CONSTRUCTION = 200;

  @Type(() => Number) @IsInt() @Min(10) @Max(4000)
  HNSW_EF_RUNTIME = 512;

  /** Sent as every RediSearch query's TIMEOUT; a query that runs out fails (counted), it never answers "no hits". */
  @Type(() => Number) @IsInt() @Min(1) @Max(60000)
  REDISEARCH_TIMEOUT_MS = 1000;

  /** How often the retriever reads FT.INFO to report hash_indexing_failures, and to log when it rises. */
  @Type(() => Number) @IsInt() @Min(100)
  REDISEARCH_WATCH_INTERVAL_MS = 15000;

  /** Hybrid search: the full-text ranking's share of the fused score (the vector ranking gets the rest). */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  HYBRID_TEXT_WEIGHT = 0.7;

  /** A filtered search whose candidate set is at most this big is answered by an exact scan. */
  @Type(() => Number) @IsInt() @Min(0)
  HNSW_EXACT_THRESHOLD = 4096;

  /**
   * An absolute directory where the hnsw backend saves its graph, and loads it from at start instead of rebuilding
   * from Redis (then it replays the change log from the snapshot's position). Unset: every start rebuilds.
   */
  @IsOptional()
  @Matches(/^\//, { message: 'HNSW_SNAPSHOT_DIR must be an absolute path' })
  HNSW_SNAPSHOT_DIR?: string;

  /** How often the hnsw backend saves a snapshot, when it changed since the last (and once when it stops). */
  @Type(() => Number) @IsInt() @Min(1000)
  HNSW_SNAPSHOT_INTERVAL_MS = 300000;

  /**
   * While the hnsw or exact backend rebuilds after start-up, a search whose sessions (or users, or tenant) hold at
   * most this many vectors is answered by an exact scan of them read from Redis; a larger one waits for the rebuild.
   */
  @Type(() => Number) @IsInt() @Min(0)
  REBUILD_SCAN_MAX_VECTORS = 5000;

  // Embeddings
  @IsIn(PROVIDERS)
  EMBEDDING_PROVIDER: ProviderName = 'local';

  @IsString()
  EMBEDDING_MODEL = 'text-embedding-3-small';

  @Type(() => Number) @IsInt() @Min(8) @Max(8192)
  EMBEDDING_DIM = 1024;

  /**
   * The longest text the embedding model takes, in its tokens (text-embedding-3-*: 8191); longer turns, messages and
   * queries are refused with 400 at the API. Set it to your model's limit for other servers (counted in cl100k_base).
   */
  @Type(() => Number) @IsInt() @Min(1)
  EMBEDDING_MAX_INPUT_TOKENS = 8191;

  // LLM
  @IsIn(PROVIDERS)
  LLM_PROVIDER: ProviderName = 'local';

  @IsString()
  LLM_MODEL = 'gpt-4o-mini';

  // OpenAI and OpenAI-compatible servers (Ollama, vLLM, TEI, ...)
  @ValidateIf(needsOpenAiKey) @IsString() @Matches(/\S/)
  OPENAI_API_KEY?: string;

  @ValidateIf((c: MemoryConfig) => needsBaseUrl(c) || c.OPENAI_BASE_URL !== undefined)
  @IsUrl({ require_tld: false, require_protocol: true })
  OPENAI_BASE_URL?: string;

  // Azure OpenAI
  @ValidateIf(needsAzure) @IsString() @Matches(/\S/)
  AZURE_OPENAI_API_KEY?: string;

  @ValidateIf(needsAzure) @IsUrl({ require_tld: false, require_protocol: true })
  AZURE_OPENAI_ENDPOINT?: string;

  @IsString()
  AZURE_OPENAI_API_VERSION = '2024-10-21';

  @ValidateIf((c: MemoryConfig) => c.LLM_PROVIDER === 'azure') @IsString()
  AZURE_OPENAI_CHAT_DEPLOYMENT?: string;

  @ValidateIf((c: MemoryConfig) => c.EMBEDDING_PROVIDER === 'azure') @IsString()
  AZURE_OPENAI_EMBEDDING_DEPLOYMENT?: string;

  @Type(() => Number) @IsInt() @Min(100)
  PROVIDER_TIMEOUT_MS = 30000;

  @Type(() => Number) @IsInt() @Min(0) @Max(10)
  PROVIDER_MAX_RETRIES = 3;

  // Retrieval and context assembly
  /** The window of a search that names no time bound, in hours back from now; 0 searches all time. */
  @Type(() => Number) @IsNumber() @Min(0)
  MEMORY_WINDOW_HOURS = 0;

  @Type(() => Number) @IsInt() @Min(1) @Max(100)
  TOP_K_MEMORIES = 10;

  @Type(() => Number) @IsInt() @Min(64)
  MAX_CONTEXT_TOKENS = 4000;

  /** How many of the session's latest turns the context always tries to include. */
  @Type(() => Number) @IsInt() @Min(0) @Max(50)
  RECENT_TURNS = 4;

  /** 0 ranks by similarity alone; up to 1 blends in recency, from the scope's first turn (or since) to its newest. */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  RECENCY_WEIGHT = 0;

  /**
   * Re-ranking looks at the best max(RERANK_DEPTH, 3k) hits, whatever k the client asks for: a k = 10 search re-ranking
   * only its best 30 got recall@10 0.711 on the LoCoMo dev half, 0.725 with 150 (docs/retrieval.md). With a reranker
   * model, this is also how many texts it scores per search.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  RERANK_DEPTH = 150;

  /** Re-ranking: a hit dated on (or naming) a date the query names gains this much (half for a "when" question's dated turns). */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  RERANK_DATE_WEIGHT = 0.1;

  /** Re-ranking: a hit gains this share of the best similarity among its adjacent turns in the same result list. */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  RERANK_NEIGHBOUR_WEIGHT = 0.3;

  /**
   * Re-ranking: a turn whose speaker label (`Name: ...`) the query names gains this much ("What activities does Melanie
   * do?" asks about Melanie's own turns, not those addressed to her). Multi-hop recall@10 on the LoCoMo dev half
   * 0.400 -> 0.475 at 0.2 (docs/retrieval.md).
   */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  RERANK_SPEAKER_WEIGHT = 0.2;

  /**
   * An optional reranker model over HTTP, off by default: `tei` POSTs `{query, texts}` to text-embeddings-inference's
   * `RERANK_URL/rerank`, `cohere` POSTs `{model, query, documents, top_n}` to `RERANK_URL/v1/rerank` (Cohere, Jina,
   * vLLM). Its score replaces the index's similarity in the re-ranking; a failed call falls back to the offline one.
   */
  @IsIn(RERANK_PROVIDERS)
  RERANK_PROVIDER: RerankProviderName = 'none';

  /** The reranker server's base URL (the route is appended), e.g. `http://tei:8080` or `https://api.jina.ai`. */
  @ValidateIf((c: MemoryConfig) => c.RERANK_PROVIDER !== 'none')
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  RERANK_URL?: string;

  /** The model named in a `cohere` request (Cohere and Jina require one; TEI serves the one it was started with). */
  @ValidateIf((c: MemoryConfig) => c.RERANK_PROVIDER === 'cohere') @IsString() @Matches(/\S/)
  RERANK_MODEL?: string;

  /** Sent as `Authorization: Bearer <key>` when set. */
  @IsOptional() @IsString() @Matches(/\S/)
  RERANK_API_KEY?: string;

  /** A reranker call without an answer after this long is abandoned (the search re-ranks offline): it is on every search's path. */
  @Type(() => Number) @IsInt() @Min(50) @Max(10000)
  RERANK_TIMEOUT_MS = 1000;

  /** Texts per reranker request (TEI refuses more than its --max-client-batch-size, 32 by default); larger sets go in parallel requests. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  RERANK_BATCH_SIZE = 32;

  // Queues and workers
  @Type(() => Number) @IsInt() @Min(1) @Max(2048)
  EMBED_BATCH_SIZE = 64;

  @Type(() => Number) @IsInt() @Min(0) @Max(1000)
  EMBED_BATCH_WAIT_MS = 5;

  @Type(() => Number) @IsInt() @Min(1) @Max(1024)
  EMBED_CONCURRENCY = 64;

  @Type(() => Number) @IsInt() @Min(1) @Max(1024)
  RETRIEVE_CONCURRENCY = 16;

  /** Jobs the extractor runs at once (each holds one LLM call at a time). */
  @Type(() => Number) @IsInt() @Min(1) @Max(256)
  EXTRACT_CONCURRENCY = 4;

  @Type(() => Number) @IsInt() @Min(1) @Max(50)
  JOB_ATTEMPTS = 5;

  // Embedding generations and re-indexing (docs/retrieval.md, "Changing the embedder")
  /** How often every process reads the store's embedding generations (a re-index's start, switch and end). */
  @Type(() => Number) @IsInt() @Min(50) @Max(60_000)
  GENERATION_POLL_MS = 1000;

  /** A re-index re-embeds at most this many stored turns and memories per second (its jobs yield to live writes). */
  @Type(() => Number) @IsInt() @Min(1) @Max(100_000)
  REINDEX_RATE = 500;

  /** Hashes one re-index job scans (and re-embeds at most). */
  @Type(() => Number) @IsInt() @Min(1) @Max(2048)
  REINDEX_BATCH = 64;

  /** How long the previous generation is kept (and written) after the switch: searches begun on it finish, and --abort can still roll back. */
  @Type(() => Number) @IsInt() @Min(0) @Max(86_400_000)
  REINDEX_GRACE_MS = 60_000;

  // Long-term memories (apps/extractor); off with LLM_PROVIDER=local
  /** A session's new turns are extracted once this many have been stored since its last extraction... */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  EXTRACT_AFTER_TURNS = 8;

  /** ...or after this long without a new turn. */
  @Type(() => Number) @IsInt() @Min(0) @Max(86_400_000)
  EXTRACT_QUIET_MS = 30000;

  /** Turns sent to the LLM in one extraction; more wait for the next job of the session. */
  @Type(() => Number) @IsInt() @Min(1) @Max(500)
  EXTRACT_MAX_TURNS = 40;

  /** Stored memories each candidate fact is compared with (the nearest of its user's, or session's). */
  @Type(() => Number) @IsInt() @Min(1) @Max(50)
  EXTRACT_NEIGHBOURS = 5;

  // Rolling session summaries (apps/extractor, the same queue and feed); off with LLM_PROVIDER=local
  /** A session's turns older than the recent window (RECENT_TURNS) and not yet summarised are summarised once they pass this many tokens. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  SUMMARY_THRESHOLD_TOKENS = 2000;

  /** Turns sent to the LLM in one summary update; more are folded in by the next update of the same job. */
  @Type(() => Number) @IsInt() @Min(1) @Max(500)
  SUMMARY_MAX_TURNS = 100;

  /** Summary versions kept per session (the newest is the current summary). */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  SUMMARY_MAX_VERSIONS = 20;

  /** A worker's job lock; a crashed worker's jobs are taken over after at most about twice this. */
  @Type(() => Number) @IsInt() @Min(500)
  JOB_LOCK_MS = 30000;

  /** How often workers look for jobs whose worker died (stalled jobs). */
  @Type(() => Number) @IsInt() @Min(500)
  JOB_STALLED_INTERVAL_MS = 30000;

  /** How long the API waits for a worker's result before answering 504. */
  @Type(() => Number) @IsInt() @Min(100)
  JOB_TIMEOUT_MS = 15000;

  // HTTP
  @IsString()
  API_HOST = '0.0.0.0';

  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  API_PORT = 3000;

  /** A request's headers and body must have arrived within this, or it gets 408 and its connection is closed. */
  @Type(() => Number) @IsInt() @Min(100)
  HTTP_BODY_TIMEOUT_MS = 10000;

  /**
   * The longest a request may take from its first byte to its answer: 503 past it. Above JOB_TIMEOUT_MS, and above
   * an LLM call for chat; a streamed answer, once it has started, is exempt.
   */
  @Type(() => Number) @IsInt() @Min(100)
  HTTP_REQUEST_TIMEOUT_MS = 60000;

  /** The small /metrics and /healthz server of a worker process; 0 picks a free port. */
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  METRICS_PORT = 9100;

  /** Where a worker's /metrics and /healthz listen. They are unauthenticated: keep them on a private network. */
  @IsString()
  METRICS_HOST = '0.0.0.0';

  /** apikey: every /v1 request needs `Authorization: Bearer <key>`. none: no auth, for the local demo only. */
  @IsIn(['apikey', 'none'])
  AUTH_MODE: 'apikey' | 'none' = 'apikey';

  /** Comma-separated tenant:key pairs. More keys can be issued into Redis: `npm run cli -- keys issue --tenant T`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}:[\x21-\x2b\x2d-\x7e]{16,256}(,[A-Za-z0-9_-]{1,64}:[\x21-\x2b\x2d-\x7e]{16,256})*$/, {
    message: 'API_KEYS must be comma-separated tenant:key pairs, each key 16 to 256 printable characters without commas',
  })
  API_KEYS?: string;

  /** The tenant that requests act for when AUTH_MODE=none. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  DEFAULT_TENANT = 'default';

  /**
   * The tenant whose admin keys may run store-wide operations (/v1/admin: re-indexing to another embedding model):
   * they touch every tenant's data, so no other tenant's admin may. Default DEFAULT_TENANT.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  OPERATOR_TENANT?: string;

  /** Requests per minute per tenant, over all routes together (counted in Redis, so shared by every API replica). */
  @Type(() => Number) @IsInt() @Min(1)
  RATE_LIMIT_PER_MINUTE = 60000;

  /** Past this many of its turns queued and not yet stored, a tenant's writes get 429 and Retry-After (others go on). */
  @Type(() => Number) @IsInt() @Min(1)
  TENANT_MAX_QUEUED = 20000;

  /**
   * Bulk writes (bodies over 16 KiB) one tenant may have in progress at once on one API replica; past them it gets 429
   * and Retry-After before its body is read, so one tenant's flood of large batches cannot hold the event loop.
   */
  @Type(() => Number) @IsInt() @Min(1)
  TENANT_MAX_BULK_WRITES = 4;

  /**
   * The embedders' nice value (0-19, Linux and macOS). A turn is acknowledged before it is embedded, so embedding is
   * background work: on a machine the embedders share with the API and the retrievers, their long texts take the CPU
   * those requests need only when it is free (another tenant's reads waited 300 ms behind 32,000-character turns at 0).
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(19)
  EMBEDDER_NICE = 10;

  /**
   * Failed authentications per minute per client address; past them a failure is a 429 with Retry-After instead of a
   * 401. A valid key always passes. Counted by each API replica. Behind a reverse proxy every client has the proxy's
   * address unless TRUST_PROXY names it.
   */
  @Type(() => Number) @IsInt() @Min(1)
  AUTH_FAILURES_PER_MINUTE = 30;

  /**
   * The reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges (e.g.
   * `10.0.0.0/8,127.0.0.1`). A request from one of them counts as from the client the header names (the first address
   * from the right that is not a trusted proxy). Unset: the header is ignored, so no client can pose as another.
   */
  @IsOptional()
  @Matches(/^[0-9A-Fa-f.:]+(\/\d{1,3})?(,[0-9A-Fa-f.:]+(\/\d{1,3})?)*$/, { message: 'TRUST_PROXY must be comma-separated IP addresses or CIDR ranges' })
  TRUST_PROXY?: string;

  /** Past this many waiting jobs in a queue the API sheds load with 503 and Retry-After. */
  @Type(() => Number) @IsInt() @Min(1)
  QUEUE_MAX_WAITING = 100000;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL = 'log';
}

/** Extraction needs a real LLM: the offline responder cannot state facts, so with it nothing is extracted. */
export const extractionEnabled = (c: Pick<MemoryConfig, 'LLM_PROVIDER'>): boolean => c.LLM_PROVIDER !== 'local';
