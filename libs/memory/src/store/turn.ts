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
  /** False when this turn id was already stored: the write was a no-op. */
  created: boolean;
  /** Change-log position of the write ('' when nothing was written). */
  logId: string;
}

/** The hash fields of a turn; `embedding` holds little-endian FLOAT32 bytes. */
export const TURN_FIELDS = {
  tenant: 'tenant',
  session: 'session',
  seq: 'seq',
  turnId: 'turn_id',
  role: 'role',
  content: 'content',
  timestamp: 'timestamp',
  tokenCount: 'token_count',
  metadata: 'metadata',
  embedding: 'embedding',
} as const;
