import type { EmbeddingGeneration } from '../generation/embedding-generation';
import { type GenerationRecord, writeGenerations } from '../generation/generation-store';
import type { GenerationWatch } from '../generation/generation-watch';
import { createVectorIndex } from './create-vector-index';
import type { VectorBackend, VectorHit, VectorIndex, VectorIndexOptions, VectorQuery } from './vector-index';

/**
 * One index per live embedding generation: the active one's, and while a re-index runs the target's, built beside it
 * (in-process: a second core following the same change log; RediSearch: a second index over the same hashes, its
 * vector attribute reading the target's field). A search is answered by the generation its query vector was made in,
 * so every result of a search comes from one generation; a generation that leaves the record is retired.
 */
export class GenerationalVectorIndex implements VectorIndex {
  private readonly indexes = new Map<string, { generation: EmbeddingGeneration; index: Promise<VectorIndex> }>();
  private first?: VectorIndex;

  constructor(
    private readonly watch: GenerationWatch,
    private readonly opts: Omit<VectorIndexOptions, 'generation'>,
  ) {}

  get backend(): VectorBackend {
    return this.first!.backend;
  }

  async init(): Promise<void> {
    this.first = await this.open(this.watch.active);
    this.sync(this.watch.record);
    this.watch.onChange((record) => this.sync(record));
  }

  async search(q: VectorQuery): Promise<VectorHit[]> {
    const fingerprint = q.generation ?? this.watch.active.fingerprint;
    let entry = this.indexes.get(fingerprint);
    // An index that failed to open is opened again by the next search of its generation, while it is live.
    const live = writeGenerations(this.watch.record).find((g) => g.fingerprint === fingerprint);
    if (!entry && live) this.open(live);
    entry = this.indexes.get(fingerprint);
    if (!entry) throw new Error(`no index of embedding generation ${q.generation} in this process (it was dropped)`);
    return (await entry.index).search(q);
  }

  async size(): Promise<number> {
    return (await this.indexes.get(this.watch.active.fingerprint)?.index)?.size() ?? 0;
  }

  async close(): Promise<void> {
    const all = [...this.indexes.values()];
    this.indexes.clear();
    await Promise.all(all.map(async (e) => (await e.index.catch(() => undefined))?.close()));
  }

  async retire(): Promise<void> {
    await this.close();
  }

  /** Opens the record's live generations' indexes (in the background) and retires the others'. */
  private sync(record: GenerationRecord): void {
    const live = writeGenerations(record);
    for (const g of live) if (!this.indexes.has(g.fingerprint)) void this.open(g).catch((err: Error) => this.log().warn(`index of generation ${g.id} failed to open: ${err.message}`));
    for (const [fingerprint, { generation, index }] of this.indexes) {
      if (live.some((g) => g.fingerprint === fingerprint)) continue;
      this.indexes.delete(fingerprint);
      void index
        .then((i) => i.retire())
        .then(() => this.log().log(`retired the index of embedding generation ${generation.id}`))
        .catch((err: Error) => this.log().warn(`retiring the index of generation ${generation.id} failed: ${err.message}`));
    }
  }

  private open(generation: EmbeddingGeneration): Promise<VectorIndex> {
    const entry = { generation, index: createVectorIndex({ ...this.opts, generation }) };
    this.indexes.set(generation.fingerprint, entry);
    entry.index.catch(() => {
      if (this.indexes.get(generation.fingerprint) === entry) this.indexes.delete(generation.fingerprint);
    });
    return entry.index;
  }

  private log() {
    return this.opts.logger ?? console;
  }
}
