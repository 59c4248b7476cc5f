import type { Operation } from '@app/memory/metrics/metric-names';

/** The HTTP API's bodies, as the CLI reads them (see apps/api). */
export type Role = 'user' | 'assistant' | 'system';
export type { SearchMode } from '@app/memory/vector/vector-index';

export interface TurnInput {
  role: Role;
  content: string;
  /** Epoch ms or ISO 8601. */
  timestamp?: number | string;
  metadata?: Record<string, unknown>;
  /** Client idempotency key: the same id sent twice is stored once. */
  id?: string;
}

export interface AcceptedTurns {
  turns: { turnId: string; seq: number }[];
  logId?: string;
}

export interface Memory {
  turnId: string;
  sessionId: string;
  userId: string | null;
  seq: number;
  role: Role;
  content: string;
  /** ISO 8601. */
  timestamp: string;
  metadata: Record<string, unknown>;
  tags: string[];
  similarity: number;
  /** BM25 / (BM25 + 8) and max(0, cosine): the components of a text or hybrid similarity (null when absent). */
  textScore?: number | null;
  vectorScore?: number | null;
  score: number;
  /** With neighbours=n: the adjacent turns, oldest first. */
  neighbours?: { turnId: string; seq: number; role: Role; content: string; timestamp: string }[];
}

/** ms per operation of one chat cycle. */
export type Timings = Record<Operation, number>;

export interface ChatResponse {
  reply: string;
  responder: string;
  memories: Memory[];
  contextTokens: number;
  dropped: number;
  timings: Timings;
}

export interface MemoriesResponse {
  memories: Memory[];
  /** The time bounds applied (ISO 8601); null is unbounded. */
  window: { since: string | null; until: string | null };
  timings: { prepare: number; queue: number; embed: number; search: number; total: number };
}

/** POST /v1/memories/search. */
export interface MemorySearch {
  query: string;
  userId?: string;
  sessionIds?: string[];
  since?: number | string;
  until?: number | string;
  roles?: Role[];
  tags?: string[];
  k?: number;
  minScore?: number;
}

/** A stored turn as the history endpoint shows it: the search hit's shape (ISO 8601 time, userId). */
export interface HistoryTurn {
  seq: number;
  turnId: string;
  role: Role;
  content: string;
  /** ISO 8601. */
  timestamp: string;
  tokenCount: number;
  userId: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface HistoryPage {
  total: number;
  turns: HistoryTurn[];
}
