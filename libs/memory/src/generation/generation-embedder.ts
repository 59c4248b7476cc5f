import type { Metrics } from '../metrics/metrics';
import { observeProvider } from '../metrics/observe-provider';
import type { MemoryStore } from '../store/memory-store';
import type { EmbeddingGeneration } from './embedding-generation';
import type { GenerationWatch } from './generation-watch';

/** What a write embedded: the generations, and per text its vector in each, by the generation's hash field. */
export interface WriteEmbeddings {
  generations: EmbeddingGeneration[];
  vectors: Record<string, Float32Array>[];
}

/**
 * Embeds what is written in every generation a write goes to (the active one; the target too while a re-index
 * builds, the previous one during the grace period), one provider call per generation.
 */
export class GenerationEmbedder {
  constructor(
    private readonly watch: GenerationWatch,
    private readonly metrics: Metrics,
  ) {}

  async embed(generation: EmbeddingGeneration, texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const embedder = this.watch.embedder(generation);
    return observeProvider(this.metrics, 'embedding', embedder.name, () => embedder.embed(texts));
  }

  async forWrite(texts: string[]): Promise<WriteEmbeddings> {
    const generations = this.watch.writes;
    const byGeneration = await Promise.all(generations.map((g) => this.embed(g, texts)));
    return { generations, vectors: texts.map((_, i) => Object.fromEntries(generations.map((g, j) => [g.field, byGeneration[j][i]]))) };
  }

  /**
   * After a write of vectors in the fields `had`: a re-index that began while it was embedded may have scanned past
   * these hashes already, so the generations the write missed get their vectors now (the record is read after the
   * write, so none can begin unseen).
   */
  async catchUp(store: MemoryStore, had: string[], written: { key: string; content: string }[]): Promise<void> {
    if (written.length === 0) return;
    await this.watch.refresh();
    for (const g of this.watch.writes.filter((w) => !had.includes(w.field))) {
      const vectors = await this.embed(g, written.map((w) => w.content));
      await store.setVectors(g.field, written.map((w, i) => ({ key: w.key, vector: vectors[i] })));
    }
  }
}
