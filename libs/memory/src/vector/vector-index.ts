import type { MemoryConfig } from '../config/memory-config';
import { configuredSpec, type EmbeddingGeneration, generationOf } from '../generation/embedding-generation';
import type { RedisClient } from '../redis/create-redis';
import type { MemoryStore } from '../store/memory-store';
import type { MemoryKind, Role, StoredTurn, TurnBrief } from '../store/turn';
import type { SearchFailure } from '../errors/search-reply.error';

export type VectorBackend = 'redisearch' | 'hnsw' | 'exact';

export const SEARCH_MODES = ['hybrid', 'vector', 'text'] as const;
/** hybrid: full-text and vector rankings fused; vector: cosine similarity only; text: BM25 only. */
export type SearchMode = (typeof SEARCH_MODES)[number];

/** Why an in-process index was rebuilt after start-up. */
export type RebuildReason = 'trimmed' | 'rolled_back';

export interface VectorQuery {
  /** Always filtered. */
  tenant: string;
  /** One, several, or undefined for all of the tenant's sessions; an empty list matches nothing. */
  sessions?: string[];
  /** Epoch ms, inclusive bounds on the turn's timestamp. */
  since?: number;
  until?: number;
  /** Filters on the turn's stored fields; each matches any of its values, and an empty list matches nothing. */
  users?: string[];
  roles?: Role[];
  /** A turn passes when it carries any of these tags. */
  tags?: string[];
  /** Turns, extracted memories, or (undefined) both. */
  kinds?: MemoryKind[];
  k: number;
  /** Default hybrid. */
  mode?: SearchMode;
  /** The query's embedding; needed by the vector and hybrid modes. */
  vector?: Float32Array;
  /** The query's text, searched by the text and hybrid modes (its words only: no query syntax). */
  text?: string;
  /** Defaults to HNSW_EF_RUNTIME. */
  efRuntime?: number;
  /** Read-your-writes: the hnsw and exact backends do not answer before they cover these change-log positions (partition -> id). */
  minLogIds?: Record<number, string>;
  /** The fingerprint of the embedding generation `vector` was made in: searched there (default the active one). */
  generation?: string;
}

export interface VectorHit {
  key: string;
  /**
   * The relevance the hits are ranked by, best first, on scales that do not depend on the query: 1 - cosine distance
   * (vector), BM25 / (BM25 + BM25_HALF) in [0, 1) (text), their weighted sum (hybrid, see fuseRankings).
   */
  similarity: number;
  /** The text and hybrid modes' components of `similarity` (see RankedKey). */
  text?: number;
  vector?: number;
  brief: TurnBrief;
}

/** A hit with its whole stored turn. */
export interface TurnHit extends VectorHit {
  turn: StoredTurn;
}

export interface VectorIndex {
  readonly backend: VectorBackend;
  /** Creates the RediSearch index if missing, or rebuilds the in-process index from Redis and starts following the change log. */
  init(): Promise<void>;
  /** The best k hits, each with what the re-rank reads of its turn (not the turn: see loadTurns). */
  search(q: VectorQuery): Promise<VectorHit[]>;
  /** Vectors indexed. */
  size(): Promise<number>;
  /**
   * Writes stored but not yet searchable here (the in-process index's change-log entries not applied yet); absent
   * where a write is searchable once stored (RediSearch indexes a hash as it is written).
   */
  lag?(): Promise<number>;
  close(): Promise<void>;
  /** Closes it for good, its generation dropped: RediSearch drops its index (the hashes stay). */
  retire(): Promise<void>;
}

export interface IndexLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface VectorIndexOptions {
  config: MemoryConfig;
  /** Shared connection; the index never closes it (the hnsw follower opens its own blocking duplicate). */
  redis: RedisClient;
  store: MemoryStore;
  /** The embedding generation indexed (its dimension and hash field); default the configured embedder's, as a store's first. */
  generation?: EmbeddingGeneration;
  logger?: IndexLogger;
  /** Called when an HNSW search threw and the exact scan answered instead (count it in a metric). */
  onFallback?: (err: unknown) => void;
  /** Called when an in-process index rebuilds after start-up (the change log was trimmed past it, or went back in time). */
  onRebuild?: (reason: RebuildReason) => void;
  /** Called when a search was answered by scanning its scope in Redis while an in-process index rebuilt (count it in a metric). */
  onRebuildScan?: () => void;
  /** Called with RediSearch's hash_indexing_failures at start and every REDISEARCH_WATCH_INTERVAL_MS (set a gauge). */
  onIndexingFailures?: (count: number) => void;
  /** Called when a RediSearch query timed out or gave a malformed reply (count it in a metric); the search throws. */
  onSearchFailure?: (reason: SearchFailure) => void;
}

/** A key and its score (similarity, BM25 or fused), before the turn is loaded. */
export interface RankedKey {
  key: string;
  similarity: number;
  /** The components of a text or fused score: textScore(BM25) and max(0, cosine) (absent: not in that ranking). */
  text?: number;
  vector?: number;
}

/** The generation an index covers: the one it was given, else the configured embedder's as a store's first. */
export const indexedGeneration = (opts: VectorIndexOptions): EmbeddingGeneration => opts.generation ?? generationOf(configuredSpec(opts.config), true);
