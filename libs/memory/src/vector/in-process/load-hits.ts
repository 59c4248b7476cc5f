import type { MemoryStore } from '../../store/memory-store';
import type { RankedKey, VectorHit } from '../vector-index';

/** Attaches the stored turns to ranked keys in one pipelined read; a turn deleted meanwhile is left out. */
export async function loadHits(store: MemoryStore, ranked: RankedKey[]): Promise<VectorHit[]> {
  const turns = await store.getTurns(ranked.map((r) => r.key));
  return ranked.flatMap((r, i) => {
    const turn = turns[i];
    return turn ? [{ ...r, turn }] : [];
  });
}
