import type { StoredVector } from '../../store/memory-store';
import { ExactIndex } from './exact-index';
import { rankByMode, rankingDepth } from '../fusion';
import { type GraphHit, type GraphHits, GraphThread } from './graph-thread';
import type { SearchCore } from './search-core';
import type { IndexLogger, RankedKey, VectorQuery } from '../vector-index';
import { type MirrorSnapshot, VectorMirror } from './vector-mirror';

/** Post-filtering fetches this many times k / share neighbours, and is used only up to MAX_OVERFETCH of them. */
const OVERFETCH = 2;
const MAX_OVERFETCH = 512;

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
 * hnswlib-node graph over the mirror, on its own thread (GraphThread). Small candidate sets (a small session, a
 * narrow window) are scanned exactly on the caller's thread, because filtered HNSW loses recall when few vectors pass
 * the filter, and they never wait for the graph; a failing graph search falls back to the scan. A vector is
 * searchable once it is in the mirror: its graph insert (1-3 ms at 1024 dimensions, most of the cost) happens on the
 * graph thread, and a graph search also scans exactly the vectors the graph did not hold yet when it ran. So a flood
 * of inserts holds up neither the event loop nor a search for longer than one chunk of the graph thread.
 */
export class HnswIndex implements SearchCore {
  readonly exact: ExactIndex;
  private readonly graph: GraphThread;
  /** Labels sent to the graph thread and maybe not linked yet, each with its add's number, in that order. */
  private readonly unlinked = new Map<number, number>();
  /** Graph searches under way: `unlinked` keeps what they may still need until none is. */
  private searching = 0;

  /** A new, empty index; or, with `graph`, one read from a snapshot together with its mirror. */
  constructor(
    private readonly opts: HnswOptions,
    readonly mirror = new VectorMirror(opts.dim),
    graph?: GraphThread,
  ) {
    this.exact = new ExactIndex(mirror, opts.textWeight);
    this.graph = graph ?? new GraphThread({ dim: opts.dim, m: opts.m, efConstruction: opts.efConstruction, capacity: opts.initialCapacity ?? 1024 });
    this.graph.onLinked = () => this.searching === 0 && this.prune();
  }

  /**
   * Reads a graph written by writeGraph, with the mirror snapshot and the live labels' unit vectors (label order)
   * taken at the same moment; throws if they do not fit.
   */
  static async load(opts: HnswOptions, graphFile: string, snapshot: MirrorSnapshot, units: Float32Array): Promise<HnswIndex> {
    const live = snapshot.rows.filter((r) => r !== null).length;
    if (units.length !== live * opts.dim) throw new Error(`${units.length / opts.dim} unit vectors for ${live} labels`);
    let next = 0;
    const mirror = VectorMirror.restore(opts.dim, snapshot, () => units.subarray(next * opts.dim, ++next * opts.dim));
    const graph = new GraphThread({ dim: opts.dim, m: opts.m, efConstruction: opts.efConstruction, capacity: opts.initialCapacity ?? 1024, file: graphFile, live });
    try {
      const count = await graph.ready;
      if (count < mirror.size) throw new Error(`the graph holds ${count} vectors, the mirror ${mirror.size}`);
    } catch (err) {
      await graph.close();
      throw err;
    }
    return new HnswIndex(opts, mirror, graph);
  }

  /**
   * Writes the graph (hnswlib's own format) to a file, every vector linked first; the caller takes the mirror's
   * snapshot at the same moment.
   */
  writeGraph(file: string): Promise<void> {
    return this.graph.write(file);
  }

  get size(): number {
    return this.mirror.size;
  }

  get capacity(): number {
    return this.graph.capacity;
  }

  add(v: StoredVector): void {
    const label = this.mirror.add(v);
    if (label !== undefined) this.unlinked.set(label, this.graph.add(label, this.mirror.unit(label)));
  }

  get settled(): boolean {
    return this.graph.settled;
  }

  settle(): Promise<void> {
    return this.graph.settle();
  }

  close(): Promise<void> {
    return this.graph.close();
  }

  /** Forgets the labels the graph holds now. */
  private prune(): void {
    for (const [label, added] of this.unlinked) {
      if (added > this.graph.linked) return;
      this.unlinked.delete(label);
    }
  }

  deleteSession(tenant: string, session: string): void {
    this.markDeleted(this.mirror.removeSession(tenant, session));
  }

  remove(key: string): void {
    this.markDeleted(this.mirror.removeKey(key));
  }

  private markDeleted(labels: number[]): void {
    for (const label of labels) this.unlinked.delete(label);
    this.graph.delete(labels);
  }

  async search(q: VectorQuery): Promise<RankedKey[]> {
    const vector = q.mode === 'text' ? [] : await this.vectorRank({ ...q, k: rankingDepth(q) });
    return rankByMode(q, this.exact.textWeight, { vector: () => vector, text: (k) => this.mirror.textRank(q, k) });
  }

  private async vectorRank(q: VectorQuery): Promise<RankedKey[]> {
    const few = this.mirror.candidates(q, this.opts.exactThreshold);
    if (few) return this.exact.rank(few, q.vector!, q.k);
    this.searching++;
    try {
      return this.withUnlinked(q, await this.graphKnn(q));
    } catch (err) {
      this.opts.logger.warn(`HNSW search failed, answering with the exact scan: ${(err as Error).message}`);
      this.opts.onFallback?.(err);
      return this.exact.search({ ...q, mode: 'vector' });
    } finally {
      if (--this.searching === 0) this.prune();
    }
  }

  /** Graph hits merged with the exact ranking of the vectors that pass the query's filter and the graph did not hold. */
  private withUnlinked(q: VectorQuery, { hits, linked }: GraphHits): RankedKey[] {
    const passes = this.mirror.predicate(q);
    const pending: number[] = [];
    for (const [label, added] of this.unlinked) if (added > linked && passes(label)) pending.push(label);
    if (pending.length === 0) return this.keyed(hits, passes);
    // Ties go by key, so which of two equally similar vectors comes back does not depend on which was linked first.
    const order = (a: RankedKey, b: RankedKey) => b.similarity - a.similarity || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    return [...this.keyed(hits, passes), ...this.exact.rank(pending, q.vector!, q.k)].sort(order).slice(0, q.k);
  }

  /** The graph search alone, without the small-set, not-yet-linked and fallback paths. */
  async knn(q: VectorQuery): Promise<RankedKey[]> {
    return this.keyed((await this.graphKnn(q)).hits, this.mirror.predicate(q));
  }

  /** The hits' keys; checked again here, because applying the change log may have removed a hit since graphKnn did. */
  private keyed(hits: GraphHit[], passes: (label: number) => boolean): RankedKey[] {
    return hits.filter((h) => passes(h.label)).map(({ label, similarity }) => ({ key: this.mirror.key(label), similarity }));
  }

  /**
   * A filter that keeps a fair share of the vectors is applied after an unfiltered search for proportionally more
   * neighbours: if k of those pass, they are the top k that pass. Otherwise (a selective filter, or too few passed)
   * the graph search takes the labels that pass, which visits about 1/selectivity more nodes. Hits are checked
   * against the mirror either way: a delete may not have reached the graph thread yet.
   */
  private async graphKnn(q: VectorQuery): Promise<GraphHits> {
    const ef = q.efRuntime ?? this.opts.efRuntime;
    const passes = this.mirror.predicate(q);
    const kept = ({ hits, linked }: GraphHits): GraphHits => ({ hits: hits.filter((h) => passes(h.label)), linked });
    if (this.mirror.coversAll(q)) return kept(await this.graph.search(q.vector!, q.k, ef));
    const wide = Math.ceil((OVERFETCH * q.k) / this.mirror.share(q));
    if (wide <= MAX_OVERFETCH) {
      const found = kept(await this.graph.search(q.vector!, wide, ef));
      if (found.hits.length >= q.k) return { hits: found.hits.slice(0, q.k), linked: found.linked };
    }
    return kept(await this.graph.search(q.vector!, q.k, ef, this.mirror.candidates(q)));
  }
}
