import { Injectable } from '@nestjs/common';
import { GenerationEmbedder, GenerationStore, GenerationWatch, MemoryConfig, MemoryStore, Metrics, ReindexJob, ReindexResult } from '@app/memory';

/** How many batches' worth of hashes one job may scan. */
const SCAN_FACTOR = 16;

/** Runs one re-index job: one scan batch re-embedded into the target generation, and its progress recorded. */
@Injectable()
export class ReindexBatchService {
  constructor(
    private readonly watch: GenerationWatch,
    private readonly generations: GenerationStore,
    private readonly embedder: GenerationEmbedder,
    private readonly store: MemoryStore,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {}

  async run(job: ReindexJob): Promise<ReindexResult> {
    const record = await this.watch.refresh();
    const target = record.target;
    if (record.state !== 'building' || target?.fingerprint !== job.generation || record.cursor !== job.cursor) return { reembedded: 0, outcome: 0 };
    // Scan on until a batch's worth is missing (or a few batches' worth was scanned): a pass over hashes that have
    // their vector already (the last one, before the switch) costs reads only, and few jobs.
    const batch = this.config.REINDEX_BATCH;
    const missing: { key: string; content: string }[] = [];
    let next = job.cursor;
    for (let scanned = 0; missing.length < batch && scanned < SCAN_FACTOR * batch; ) {
      const found = await this.store.scanMissing(next, batch, target.field);
      missing.push(...found.missing);
      scanned += found.scanned;
      next = found.next;
      if (next === '') break;
    }
    const vectors = await this.embedder.embed(target, missing.map((m) => m.content));
    const reembedded = await this.store.setVectors(target.field, missing.map((m, i) => ({ key: m.key, vector: vectors[i] })));
    const outcome = await this.generations.progress(target, job.cursor, next, reembedded, missing.length, next === '', settleMs(this.config));
    if (outcome > 0) this.metrics.countReembedded(reembedded);
    return { reembedded, outcome };
  }
}

/**
 * How long after a re-index begins a pass must start for its "nothing missing" to count: by then every process has
 * read the record (GENERATION_POLL_MS) and writes both generations, and a write embedded before it caught up.
 */
export const settleMs = (config: MemoryConfig): number => 3 * config.GENERATION_POLL_MS;
