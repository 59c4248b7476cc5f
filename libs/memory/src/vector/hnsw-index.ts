import { HierarchicalNSW } from 'hnswlib-node';
import type { StoredVector } from '../store/memory-store';
import { ExactIndex } from './exact-index';
import type { SearchCore } from './search-core';
import type { IndexLogger, RankedKey, VectorQuery } from './vector-index';
import { VectorMirror } from './vector-mirror';

export interface HnswOptions {
  dim: number;
  m: number;
  efConstruction: number;
  efRuntime: number;
  /** Filtered searches with at most this many candidates are scanned exactly. */
  exactThreshold: number;
  initialCapacity?: number;
  logger: IndexLogger;
  onFallback?: (err: unknown) => void;
}

/**
 * hnswlib-node graph over the mirror. Small candidate sets (a small session, a narrow window) are scanned exactly,
 * because filtered HNSW loses recall when few vectors pass the filter; a failing HNSW search falls back to the scan.
 */
export class HnswIndex implements SearchCore {
  readonly exact: ExactIndex;
  private readonly graph: HierarchicalNSW;
  /** Marked-deleted slots that the next adds reuse (allowReplaceDeleted). */
  private deleted = 0;

  constructor(
    private readonly opts: HnswOptions,
    readonly mirror = new VectorMirror(opts.dim),
  ) {
    this.exact = new ExactIndex(mirror);
    this.graph = new HierarchicalNSW('cosine', opts.dim);
    this.graph.initIndex({
      maxElements: opts.initialCapacity ?? 1024,
      m: opts.m,
      efConstruction: opts.efConstruction,
      allowReplaceDeleted: true,
    });
  }

  get size(): number {
    return this.mirror.size;
  }

  get capacity(): number {
    return this.graph.getMaxElements();
  }

  add(v: StoredVector): void {
    const label = this.mirror.add(v);
    if (label === undefined) return;
    if (this.deleted > 0) {
      this.deleted--;
    } else if (this.graph.getCurrentCount() >= this.graph.getMaxElements()) {
      this.graph.resizeIndex(this.graph.getMaxElements() * 2);
    }
    this.graph.addPoint(Array.from(this.mirror.unit(label)), label, true);
  }

  deleteSession(tenant: string, session: string): void {
    for (const label of this.mirror.removeSession(tenant, session)) {
      this.graph.markDelete(label);
      this.deleted++;
    }
  }

  search(q: VectorQuery): RankedKey[] {
    const few = this.mirror.candidates(q, this.opts.exactThreshold);
    if (few) return this.exact.rank(few, q.vector, q.k);
    try {
      return this.knn(q);
    } catch (err) {
      this.opts.logger.warn(`HNSW search failed, answering with the exact scan: ${(err as Error).message}`);
      this.opts.onFallback?.(err);
      return this.exact.search(q);
    }
  }

  /** The graph search alone (filters applied inside hnswlib), without the small-set and fallback paths. */
  knn(q: VectorQuery): RankedKey[] {
    this.graph.setEf(Math.max(q.efRuntime ?? this.opts.efRuntime, q.k));
    const k = Math.min(q.k, this.mirror.size);
    const filter = this.mirror.coversAll(q) ? undefined : this.mirror.predicate(q);
    const { neighbors, distances } = this.graph.searchKnn(Array.from(q.vector), k, filter);
    return neighbors.map((label, i) => ({ key: this.mirror.key(label), similarity: 1 - distances[i] }));
  }
}
