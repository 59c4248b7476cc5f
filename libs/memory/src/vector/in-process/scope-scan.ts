import { DimensionMismatchError } from '../../errors/dimension-mismatch.error';
import type { EmbeddingGeneration } from '../../generation/embedding-generation';
import type { MemoryStore } from '../../store/memory-store';
import { ExactIndex } from './exact-index';
import type { VectorHit, VectorQuery } from '../vector-index';
import { VectorMirror } from './vector-mirror';

/**
 * Answers a search from Redis while the in-process index rebuilds: the vectors of the sessions (or users, or tenant)
 * the query can see are read and scanned exactly, with the query's filters and mode, as the index would. Reading
 * straight from Redis, it sees every completed write. A scope of more than `maxVectors` is not read (undefined).
 */
export class ScopeScan {
  constructor(
    private readonly store: MemoryStore,
    /** The embedding generation scanned: its dimension, and the hash field its vectors are read from. */
    private readonly generation: Pick<EmbeddingGeneration, 'dim' | 'field'>,
    private readonly textWeight: number,
    private readonly maxVectors: number,
  ) {}

  async search(q: VectorQuery): Promise<VectorHit[] | undefined> {
    const keys = await this.store.scopeKeys(q.tenant, q, this.maxVectors);
    if (!keys) return undefined;
    const core = new ExactIndex(new VectorMirror(this.generation.dim), this.textWeight);
    for (const v of await this.store.loadVectors(keys, this.generation.field)) {
      try {
        core.add(v);
      } catch (err) {
        // The index skips such a vector too (and says so when it applies it).
        if (!(err instanceof DimensionMismatchError)) throw err;
      }
    }
    return core.mirror.withBriefs(core.search(q));
  }
}
