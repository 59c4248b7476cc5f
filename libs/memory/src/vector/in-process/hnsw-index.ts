import { HierarchicalNSW } from 'hnswlib-node';
import type { StoredVector } from '../../store/memory-store';
import { ExactIndex } from './exact-index';
import { rankByMode } from '../fusion';
import type { SearchCore } from './search-core';
import type { IndexLogger, RankedKey, VectorQuery } from '../vector-index';
import { type MirrorSnapshot, VectorMirror } from './vector-mirror';

/** Post-filtering fetches this many times k / share neighbours, and is used only up to MAX_OVERFETCH of them. */
const OVERFETCH = 2;
const MAX_OVERFETCH = 512;

interface Labelled {
  label: number;
  similarity: number;
}

export interface HnswOptions {
  dim: number;
  m: number;
  efConstruction: number;
  efRuntime: number;
  /** Filtered searches with at most this many candidates are scanned exactly. */
  exactThreshold: number;
  /** Hybrid mode's share of the full-text ranking (HYBRID_TEXT_WEIGHT); ExactIndex's default when omitted. */
  textWeight?: number;
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

  /** A new, empty index; or, with `graph`, one read from a snapshot together with its mirror. */
  constructor(
    private readonly opts: HnswOptions,
    readonly mirror = new VectorMirror(opts.dim),
    graph?: HierarchicalNSW,
  ) {
    this.exact = new ExactIndex(mirror, opts.textWeight);
    if (graph) {
      this.graph = graph;
      // Slots in the graph that no mirrored label holds are marked deleted.
      this.deleted = graph.getCurrentCount() - mirror.size;
      return;
    }
    this.graph = new HierarchicalNSW('cosine', opts.dim);
    this.graph.initIndex({
      maxElements: opts.initialCapacity ?? 1024,
      m: opts.m,
      efConstruction: opts.efConstruction,
      allowReplaceDeleted: true,
    });
  }

  /**
   * Reads a graph written by writeGraph, with the mirror snapshot and the live labels' unit vectors (label order)
   * taken at the same moment; throws if they do not fit.
   */
  static async load(opts: HnswOptions, graphFile: string, snapshot: MirrorSnapshot, units: Float32Array): Promise<HnswIndex> {
    const graph = new HierarchicalNSW('cosine', opts.dim);
    await graph.readIndex(graphFile, true);
    const live = snapshot.rows.filter((r) => r !== null).length;
    if (units.length !== live * opts.dim) throw new Error(`${units.length / opts.dim} unit vectors for ${live} labels`);
    let next = 0;
    const mirror = VectorMirror.restore(opts.dim, snapshot, () => units.subarray(next * opts.dim, ++next * opts.dim));
    if (graph.getCurrentCount() < mirror.size) throw new Error(`the graph holds ${graph.getCurrentCount()} vectors, the mirror ${mirror.size}`);
    return new HnswIndex(opts, mirror, graph);
  }

  /** Writes the graph (hnswlib's own format) to a file; the caller takes the mirror's snapshot at the same moment. */
  async writeGraph(file: string): Promise<void> {
    await this.graph.writeIndex(file);
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
      // A graph read from a snapshot has room for what it held only: none, if it was saved empty (doubling 0 made
      // hnswlib fail to allocate, then crash the process with a double free).
      this.graph.resizeIndex(Math.max(this.graph.getMaxElements() * 2, this.opts.initialCapacity ?? 1024));
    }
    this.graph.addPoint(Array.from(this.mirror.unit(label)), label, true);
  }

  deleteSession(tenant: string, session: string): void {
    this.markDeleted(this.mirror.removeSession(tenant, session));
  }

  remove(key: string): void {
    this.markDeleted(this.mirror.removeKey(key));
  }

  private markDeleted(labels: number[]): void {
    for (const label of labels) {
      this.graph.markDelete(label);
      this.deleted++;
    }
  }

  search(q: VectorQuery): RankedKey[] {
    return rankByMode(q, this.exact.textWeight, { vector: (k) => this.vectorRank({ ...q, k }), text: (k) => this.mirror.textRank(q, k) });
  }

  private vectorRank(q: VectorQuery): RankedKey[] {
    const few = this.mirror.candidates(q, this.opts.exactThreshold);
    if (few) return this.exact.rank(few, q.vector!, q.k);
    try {
      return this.knn(q);
    } catch (err) {
      this.opts.logger.warn(`HNSW search failed, answering with the exact scan: ${(err as Error).message}`);
      this.opts.onFallback?.(err);
      return this.exact.search({ ...q, mode: 'vector' });
    }
  }

  /**
   * The graph search alone, without the small-set and fallback paths. A filter that keeps a fair share of the vectors
   * is applied after an unfiltered search for proportionally more neighbours: if k of those pass, they are the top k
   * that pass. Otherwise (a selective filter, or too few passed) hnswlib filters during the search, which visits
   * about 1/selectivity more nodes and calls back into JS for each.
   */
  knn(q: VectorQuery): RankedKey[] {
    const ef = q.efRuntime ?? this.opts.efRuntime;
    const query = Array.from(q.vector!);
    return this.graphKnn(q, query, ef).map(({ label, similarity }) => ({ key: this.mirror.key(label), similarity }));
  }

  private graphKnn(q: VectorQuery, query: number[], ef: number): Labelled[] {
    if (this.mirror.coversAll(q)) return this.graphSearch(query, q.k, ef);
    const passes = this.mirror.predicate(q);
    const wide = Math.ceil((OVERFETCH * q.k) / this.mirror.share(q));
    if (wide <= MAX_OVERFETCH) {
      const kept = this.graphSearch(query, wide, ef).filter((r) => passes(r.label));
      if (kept.length >= q.k) return kept.slice(0, q.k);
    }
    return this.graphSearch(query, q.k, ef, passes);
  }

  private graphSearch(query: number[], k: number, ef: number, filter?: (label: number) => boolean): Labelled[] {
    this.graph.setEf(Math.max(ef, k));
    const { neighbors, distances } = this.graph.searchKnn(query, Math.min(k, this.mirror.size), filter);
    return neighbors.map((label, i) => ({ label, similarity: 1 - distances[i] }));
  }
}
