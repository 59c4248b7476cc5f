import type { MemoryStore } from '../store/memory-store';
import type { StoredTurn } from '../store/turn';
import type { RankedKey } from './vector-index';

/** Attaches the stored turns to ranked keys in one pipelined read; a turn deleted meanwhile is left out. */
export async function loadTurns<H extends RankedKey>(store: MemoryStore, hits: H[]): Promise<(H & { turn: StoredTurn })[]> {
  const turns = await store.getTurns(hits.map((h) => h.key));
  return hits.flatMap((h, i) => {
    const turn = turns[i];
    return turn ? [{ ...h, turn }] : [];
  });
}
