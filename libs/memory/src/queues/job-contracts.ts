import { createHash } from 'node:crypto';
import type { MemoryContext, RetrievedMemory } from '../context/memory-context';
import type { MemoryKind, Role } from '../store/turn';
import type { SearchMode } from '../vector/vector-index';

/** Queue names, shared by the API (producer) and the workers (consumers). */
export const QUEUES = { embed: 'embed', retrieve: 'retrieve', extract: 'extract' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Job names, one per use case. */
export const JOBS = { embedTurn: 'embed-turn', reindex: 'reindex', retrieve: 'retrieve', extract: 'extract-memories', summarise: 'summarise-session' } as const;

/** A job that someone waits for names the waiting API replica's reply channel (see ReplyChannel); others name none. */
export interface Replied {
  replyTo?: string;
}

/** Embed one accepted turn and store it. The job id is deterministic: see embedJobId. */
export interface EmbedTurnJob extends Replied {
  tenant: string;
  session: string;
  turnId: string;
  seq: number;
  role: Role;
  content: string;
  /** The previous turn's content when the same request carried it (else the embedder reads it from the store). */
  context?: string;
  timestamp: number;
  user?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

/** No turn id: the result is kept in the queue's events stream, which a DELETE does not reach. */
export interface EmbedTurnResult {
  seq: number;
  /** 'dropped' when the session or the turn was forgotten while the job was queued. */
  outcome: 'stored' | 'existing' | 'dropped';
}

/**
 * One batch of a re-index (on the embed queue, at a lower priority than turns): scan on from `cursor`, re-embed the
 * hashes without a vector of the target generation, record the progress. A job whose target or cursor is no longer
 * the record's (replayed, or aborted meanwhile) does nothing.
 */
export interface ReindexJob {
  /** The target generation's fingerprint. */
  generation: string;
  cursor: string;
}

export interface ReindexResult {
  reembedded: number;
  /** See GenerationStore.progress: 0 stale, 1 recorded, 2 a new pass began, 3 switched. */
  outcome: number;
}

/**
 * Extract long-term memories from a session's turns stored since its last extraction (its watermark). The payload
 * names only the session: the turns are read when the job runs, so one job covers every turn stored before it.
 */
export interface ExtractJob {
  tenant: string;
  session: string;
}

export interface ExtractResult {
  /** Turns read from the session (0: nothing new since the watermark). */
  turns: number;
  added: number;
  updated: number;
  deleted: number;
  /** The session's watermark after the job: its turns up to this seq are extracted. */
  watermark: number;
}

/**
 * Fold a session's turns that left the recent window since its last summary into its rolling summary, once they pass
 * SUMMARY_THRESHOLD_TOKENS. Like an extraction, it names only the session and reads the turns when it runs.
 */
export type SummariseJob = ExtractJob;

export interface SummariseResult {
  /** Turns folded into the summary by this job (0: below the threshold, or nothing new). */
  turns: number;
  /** Summary versions written. */
  versions: number;
  /** The session's summary watermark after the job. */
  watermark: number;
}

export interface RetrieveJob extends Replied {
  tenant: string;
  /** One session, several, or omitted for all of the tenant's. */
  sessions?: string[];
  /** Only turns of these users (filtered inside the index). */
  users?: string[];
  query: string;
  /** Default hybrid. */
  mode?: SearchMode;
  k: number;
  /** Only turns with since <= timestamp <= until (epoch ms). */
  since?: number;
  until?: number;
  roles?: Role[];
  /** Only turns carrying any of these tags. */
  tags?: string[];
  /** Default both. Roles and tags filter turns: a search that names either returns no extracted memories. */
  kinds?: MemoryKind[];
  /** Leaves out memories whose score is below this. */
  minScore?: number;
  /** The time relative dates in the query ("last week") are read against (epoch ms); default now. */
  asOf?: number;
  /** Each turn hit carries up to this many turns before and after it (default 0). */
  neighbours?: number;
  /** Read-your-writes: do not answer before the index has applied these change-log positions (partition -> id). */
  minLogIds?: Record<number, string>;
  /** Turn keys to leave out, e.g. the message being answered, which is written while retrieval runs. */
  exclude?: string[];
  /** Assemble a context for the LLM as well, within this many tokens (with the session's summary unless `summary` is false). */
  assemble?: { maxTokens: number; recentTurns: number; session: string; summary?: boolean };
}

export interface RetrieveResult {
  memories: RetrievedMemory[];
  context?: MemoryContext;
  timings: { embedMs: number; searchMs: number; assembleMs: number };
  /** The id of the embedding generation the query was embedded and searched in (one per search). */
  generation: string;
}

/** The typed map from job name to payload and result. */
export interface JobMap {
  [JOBS.embedTurn]: { data: EmbedTurnJob; result: EmbedTurnResult };
  [JOBS.reindex]: { data: ReindexJob; result: ReindexResult };
  [JOBS.retrieve]: { data: RetrieveJob; result: RetrieveResult };
  [JOBS.extract]: { data: ExtractJob; result: ExtractResult };
  [JOBS.summarise]: { data: SummariseJob; result: SummariseResult };
}

/**
 * One job per accepted turn: its seq and a digest of its id. A seq is given to one turn id only and not reused while
 * the session's jobs may run (see KeySchema.seq), except after Redis lost acknowledged writes (a failover to a
 * lagging replica): the session's counter then goes back and numbers another turn with a seq whose old job is still
 * queued. The digest keeps the two jobs apart, so the old one is dropped and the new turn is stored. BullMQ custom
 * ids may not contain ':', hence a digest of the turn id (any text); tenant and session ids cannot contain '.'.
 */
export const embedJobId = (tenant: string, session: string, seq: number, turnId: string): string =>
  `${tenant}.${session}.${seq}.${createHash('sha256').update(turnId).digest('base64url').slice(0, 12)}`;

/**
 * One extraction job per session at a time (BullMQ deduplication on the session, keeping the last add while one is
 * active); its id names the turn whose write queued it, so a replayed embed job adds nothing new.
 */
export const extractDedupId = (tenant: string, session: string): string => `${tenant}.${session}`;
export const extractJobId = (tenant: string, session: string, seq: number): string => `${tenant}.${session}.x${seq}`;

/** The same for summaries, on the same queue: a session's extraction and summary are debounced apart. */
export const summariseDedupId = (tenant: string, session: string): string => `${tenant}.${session}.summary`;
export const summariseJobId = (tenant: string, session: string, seq: number): string => `${tenant}.${session}.s${seq}`;
