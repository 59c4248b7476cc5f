import type { RetrievedMemory, VectorHit } from '@app/memory';

/**
 * Blends similarity with recency: score = (1 - w) * similarity + w * recency, where recency falls linearly
 * from 1 (now) to 0 (the start of the window). With w = 0 the order is the index's order.
 */
export function rerank(hits: VectorHit[], opts: { now: number; windowMs: number; weight: number; k: number }): RetrievedMemory[] {
  const { now, windowMs, weight, k } = opts;
  return hits
    .map(({ key, similarity, turn }) => {
      const recency = windowMs > 0 ? Math.min(1, Math.max(0, 1 - (now - turn.timestamp) / windowMs)) : 0;
      const score = weight > 0 ? (1 - weight) * similarity + weight * recency : similarity;
      return { key, seq: turn.seq, role: turn.role, content: turn.content, timestamp: turn.timestamp, similarity, score };
    })
    .sort((a, b) => b.score - a.score || b.timestamp - a.timestamp)
    .slice(0, k);
}
