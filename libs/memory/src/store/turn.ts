export const ROLES = ['user', 'assistant', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** What a search may return: conversation turns, long-term memories extracted from them, or both (the default). */
export const MEMORY_KINDS = ['turn', 'memory'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/** The kinds of fact the extractor keeps. */
export const MEMORY_TYPES = ['preference', 'fact', 'event', 'plan', 'relationship', 'goal', 'other'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** A turn a memory was extracted from. */
export interface MemorySource {
  session: string;
  turnId: string;
}

/** What an extracted memory carries besides its text. */
export interface MemoryFacet {
  id: string;
  type: MemoryType;
  entities: string[];
  sources: MemorySource[];
}

/** A conversation turn as stored: one hash per turn (see KeySchema). */
export interface StoredTurn {
  key: string;
  tenant: string;
  session: string;
  seq: number;
  turnId: string;
  role: Role;
  content: string;
  /** Unix epoch milliseconds. */
  timestamp: number;
  tokenCount: number;
  /** Epoch ms of the first date the content names, resolved at write time against `timestamp` (absent: it names none). */
  eventAt?: number;
  /** The transcript speaker its content starts with ("Melanie: ..."), read at write time (absent: none). */
  speaker?: string;
  /** The user the session belongs to, if any. */
  user?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /**
   * Set on an extracted memory read through the same index (kind=memory): its turnId is then the memory id, its seq
   * 0, its role 'system', its timestamp when its current version became true, its session '' under a user scope.
   */
  memory?: MemoryFacet;
}

/**
 * What the re-rank reads of a turn: its session and seq (neighbour agreement), its dates (recency, the dates the query
 * names), its speaker (speaker focus) and whether it is an extracted memory. An index answers with these alone; the whole turn is read afterwards,
 * for the hits kept.
 */
export interface TurnBrief {
  session: string;
  seq: number;
  timestamp: number;
  eventAt?: number;
  speaker?: string;
  memory: boolean;
}

/**
 * A stored text's vectors by hash field, one per embedding generation it is written to (two while a re-index runs),
 * or one vector for the store's first generation's field (`embedding`).
 */
export type Embeddings = Float32Array | Record<string, Float32Array>;

/** The hash field, value pairs of a write's vectors. */
export const embeddingFields = (e: Embeddings): [string, Float32Array][] =>
  e instanceof Float32Array ? [[TURN_FIELDS.embedding, e]] : Object.entries(e);

/** What the embedder hands the store: a turn plus its vectors. */
export interface TurnWrite extends Omit<StoredTurn, 'key'> {
  embedding: Embeddings;
  /** The previous turn's content, for contextual indexing (absent for a session's first turn). */
  context?: string;
}

export interface WriteResult {
  turnId: string;
  seq: number;
  key: string;
  /** 'stored' by this write, 'existing' when it was already stored (a replay), 'dropped' when its session or the turn was forgotten meanwhile. */
  outcome: 'stored' | 'existing' | 'dropped';
}

/** The hash fields of a turn; `embedding` holds little-endian FLOAT32 bytes, `tags` is comma-separated. */
export const TURN_FIELDS = {
  tenant: 'tenant',
  session: 'session',
  user: 'user',
  seq: 'seq',
  turnId: 'turn_id',
  role: 'role',
  content: 'content',
  timestamp: 'timestamp',
  tokenCount: 'token_count',
  tags: 'tags',
  metadata: 'metadata',
  embedding: 'embedding',
  /** The previous turn's content, indexed as full text at a lower weight (contextual indexing, docs/retrieval.md). */
  context: 'context',
  /** Epoch ms of the first date the content names ("yesterday", "last May"), resolved against the turn's timestamp. */
  eventAt: 'event_at',
  /** The speaker label the content starts with (`Name: ...`), for the re-ranking's speaker focus (docs/retrieval.md). */
  speaker: 'speaker',
  /** 'memory' on extracted memories; turns have none (so stores written before memories existed need no migration). */
  kind: 'kind',
  memoryType: 'memory_type',
  entities: 'entities',
  sources: 'sources',
} as const;

/** Tags are TAG values in RediSearch (',' separates them) and filter values everywhere: no separators or syntax. */
export const TAG_PATTERN = /^[\p{L}\p{N}_.:/-]{1,64}$/u;
