export const ROLES = ['user', 'assistant', 'system'] as const;
export type Role = (typeof ROLES)[number];

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
  /** The user the session belongs to, if any. */
  user?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** What the embedder hands the store: a turn plus its vector. */
export interface TurnWrite extends Omit<StoredTurn, 'key'> {
  embedding: Float32Array;
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
} as const;

/** Tags are TAG values in RediSearch (',' separates them) and filter values everywhere: no separators or syntax. */
export const TAG_PATTERN = /^[\p{L}\p{N}_.:/-]{1,64}$/u;
