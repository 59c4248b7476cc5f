import type { ChatTurn } from '../llm/llm-provider';
import type { MemoryFacet, Role } from '../store/turn';

/** A memory as retrieval hands it on: in the retrieve job's result and to the context assembler. */
export interface RetrievedMemory {
  key: string;
  session: string;
  seq: number;
  turnId: string;
  user?: string;
  role: Role;
  content: string;
  timestamp: number;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** Set on an extracted memory (its turnId is then the memory id, its seq 0, its role 'system'); absent on a turn. */
  memory?: MemoryFacet;
  /** The relevance the index ranked by (see VectorHit.similarity: cosine, BM25 on a fixed scale, or both fused, per mode). */
  similarity: number;
  /** The components of a text or fused similarity (see VectorHit). */
  text?: number;
  vector?: number;
  /** The re-ranking score: similarity plus the date and neighbour features, blended with recency (see rerank). */
  score: number;
  /** The adjacent turns of the same session, oldest first, when the job asked for neighbours (a turn hit only). */
  neighbours?: NeighbourTurn[];
}

/** A turn shown beside a hit: context for it, not a hit itself. */
export interface NeighbourTurn {
  seq: number;
  turnId: string;
  role: Role;
  content: string;
  timestamp: number;
}

/** A context ready for an OpenAI-style chat call: what the context endpoint answers and what /chat sends its LLM. */
export interface MemoryContext {
  /** A system message with the preamble, the summary and the relevant memories, then the recent turns, oldest first. */
  messages: ChatTurn[];
  /** The same as one markdown text: the preamble, then "## Summary of the earlier conversation", "## Relevant memories", "## Recent conversation". */
  text: string;
  /** o200k tokens of `text`, at most the budget; the contents of `messages` add up to at most the budget too. */
  tokens: number;
  /** Memories and recent turns left out because they did not fit (never one that is shown). */
  dropped: number;
  /** What was left out, by part (the preamble and the summary count 1 when they did not fit). */
  droppedParts: Record<ContextPart, number>;
  /** The session summary shown, if one was. */
  summary?: ContextSummary;
  /** The keys of the memories and recent turns shown. */
  included: string[];
}

/** The parts a context is made of, in text order. */
export const CONTEXT_PARTS = ['preamble', 'summary', 'memories', 'recent'] as const;
export type ContextPart = (typeof CONTEXT_PARTS)[number];

/** A session's rolling summary as the context shows it: the text and the seqs of the turns it covers. */
export interface ContextSummary {
  text: string;
  fromSeq: number;
  toSeq: number;
}
