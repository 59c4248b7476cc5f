import type { StoredVector } from '../../store/memory-store';
import { rankByMode } from '../fusion';
import type { SearchCore } from './search-core';
import type { RankedKey, VectorQuery } from '../vector-index';
import { dot, normalise, VectorMirror } from './vector-mirror';

/** Brute-force cosine scan over the mirror: the ground truth for recall and the fallback of the hnsw backend. */
export class ExactIndex implements SearchCore {
  constructor(
    readonly mirror: VectorMirror,
    /** Hybrid mode's share of the full-text ranking (HYBRID_TEXT_WEIGHT). */
    readonly textWeight = 0.5,
  ) {}

  get size(): number {
    return this.mirror.size;
  }

  add(v: StoredVector): void {
    this.mirror.add(v);
  }

  /** A scan has nothing to index. */
  readonly settled = true;

  async settle(): Promise<void> {}

  async close(): Promise<void> {}

  deleteSession(tenant: string, session: string): void {
    this.mirror.removeSession(tenant, session);
  }

  remove(key: string): void {
    this.mirror.removeKey(key);
  }

  search(q: VectorQuery): RankedKey[] {
    return rankByMode(q, this.textWeight, {
      vector: (k) => this.rank(this.mirror.candidates(q)!, q.vector!, k),
      text: (k) => this.mirror.textRank(q, k),
    });
  }

  /** The k labels most similar to the vector, best first (ties keep scan order). */
  rank(labels: number[], vector: Float32Array, k: number): RankedKey[] {
    const query = normalise(vector);
    const top: { label: number; similarity: number }[] = [];
    for (const label of labels) {
      const similarity = dot(query, this.mirror.unit(label));
      if (top.length === k && similarity <= top[k - 1].similarity) continue;
      let i = Math.min(top.length, k - 1);
      while (i > 0 && top[i - 1].similarity < similarity) i--;
      top.splice(i, 0, { label, similarity });
      if (top.length > k) top.pop();
    }
    return top.map(({ label, similarity }) => ({ key: this.mirror.key(label), similarity }));
  }
}
