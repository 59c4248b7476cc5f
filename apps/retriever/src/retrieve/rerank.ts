import type { RetrievedMemory, VectorHit } from '@app/memory';

export interface RerankOptions {
  /** 0 ranks by similarity alone; up to 1 blends in recency. */
  weight: number;
  k: number;
  /** Hits scoring below this are left out. */
  minScore?: number;
  /** Recency's scale: 0 at `start`, 1 at `end` (the newest turn in scope), linear in between. */
  span?: { start: number; end: number };
}

/**
 * Blends similarity with recency: score = (1 - w) * similarity + w * recency, where recency runs over the span of the
 * scope (not up to the server's clock, which would squeeze an old conversation into a narrow band). With w = 0 the
 * order is the index's order.
 */
export function rerank(hits: VectorHit[], { weight, k, minScore, span }: RerankOptions): RetrievedMemory[] {
  const recency = (ts: number) => (!span ? 0 : span.end <= span.start ? 1 : Math.min(1, Math.max(0, (ts - span.start) / (span.end - span.start))));
  return hits
    .map(({ key, similarity, turn }): RetrievedMemory => ({
      key,
      session: turn.session,
      seq: turn.seq,
      turnId: turn.turnId,
      ...(turn.user ? { user: turn.user } : {}),
      role: turn.role,
      content: turn.content,
      timestamp: turn.timestamp,
      ...(turn.tags ? { tags: turn.tags } : {}),
      ...(turn.metadata ? { metadata: turn.metadata } : {}),
      ...(turn.memory ? { memory: turn.memory } : {}),
      similarity,
      score: weight > 0 ? (1 - weight) * similarity + weight * recency(turn.timestamp) : similarity,
    }))
    .filter((m) => minScore === undefined || m.score >= minScore)
    .sort((a, b) => b.score - a.score || b.timestamp - a.timestamp)
    .slice(0, k);
}
