import type { RankedKey, VectorQuery } from './vector-index';

/** Hybrid search fuses each ranking's best this-many (or k, if larger): deeper lists barely changed recall on the dev set. */
export const FUSION_DEPTH = 50;

/**
 * BM25 mapped to [0, 1) as score / (score + BM25_HALF): a query-independent scale (unlike "relative to the best hit"),
 * so that a text score, and a fused one, mean the same from query to query and MIN_SCORE-style thresholds work.
 * A BM25 of BM25_HALF (about two rare query words in a short turn) scores 0.5.
 */
export const BM25_HALF = 8;

export const textScore = (bm25: number): number => (bm25 > 0 ? bm25 / (bm25 + BM25_HALF) : 0);

/** BM25 scores on the query-independent [0, 1) scale, each with its component. */
export function textScores(ranking: RankedKey[]): RankedKey[] {
  return ranking.map((r) => ({ key: r.key, similarity: textScore(r.similarity), text: textScore(r.similarity) }));
}

/**
 * Convex combination of unscaled scores: textWeight * textScore(BM25) + (1 - textWeight) * max(0, cosine), a key
 * missing from one ranking counting 0 there. Both components are on fixed scales, so the fused score means the same
 * from query to query (min-max scaling, used before, made every query's best hit 1 and a lone hit 0.5); each hit
 * carries its components. Ties keep the vector ranking's order.
 */
export function fuseRankings(text: RankedKey[], vector: RankedKey[], textWeight: number, k: number): RankedKey[] {
  const t = new Map(text.map((r) => [r.key, textScore(r.similarity)]));
  const v = new Map(vector.map((r) => [r.key, Math.max(0, r.similarity)]));
  const keys = [...new Set([...vector.map((r) => r.key), ...text.map((r) => r.key)])];
  return keys
    .map((key) => {
      const [ts, vs] = [t.get(key), v.get(key)];
      return { key, similarity: textWeight * (ts ?? 0) + (1 - textWeight) * (vs ?? 0), ...(ts !== undefined ? { text: ts } : {}), ...(vs !== undefined ? { vector: vs } : {}) };
    })
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

/** How many hits a search in the query's mode asks each ranking for. */
export const rankingDepth = (q: VectorQuery): number => ((q.mode ?? 'hybrid') === 'hybrid' ? Math.max(q.k, FUSION_DEPTH) : q.k);

/** The search of an in-process core, in the query's mode, from its two rankings (each asked for its best k). */
export function rankByMode(
  q: VectorQuery,
  textWeight: number,
  rank: { vector: (k: number) => RankedKey[]; text: (k: number) => RankedKey[] },
): RankedKey[] {
  const mode = q.mode ?? 'hybrid';
  if (mode === 'vector') return rank.vector(q.k);
  if (mode === 'text') return textScores(rank.text(q.k));
  const depth = rankingDepth(q);
  return fuseRankings(rank.text(depth), rank.vector(depth), textWeight, q.k);
}
