import type { MemoryStore } from '@app/memory/store/memory-store';
import type { StoredTurn } from '@app/memory/store/turn';
import { loadTurns } from '@app/memory/vector/load-turns';
import type { RankedKey } from '@app/memory/vector/vector-index';

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
};

/**
 * The prototype's search, kept only as the benchmark's baseline: every query reads every stored vector
 * from the store, scores each one, sorts them all, then loads the top k.
 */
export class PrototypeLinearScan {
  constructor(private readonly store: MemoryStore) {}

  async search(tenant: string, vector: Float32Array, k: number): Promise<(RankedKey & { turn: StoredTurn })[]> {
    const scored: { key: string; similarity: number }[] = [];
    for await (const batch of this.store.scanVectors()) {
      for (const v of batch) if (v.tenant === tenant) scored.push({ key: v.key, similarity: cosine(vector, v.embedding) });
    }
    scored.sort((a, b) => b.similarity - a.similarity);
    return loadTurns(this.store, scored.slice(0, k));
  }
}
