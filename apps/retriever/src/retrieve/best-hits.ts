import type { MemoryStore, RetrievedMemory, StoredTurn, VectorHit } from '@app/memory';
import { retrieved } from './rerank';

/**
 * The first k re-ranked hits with their whole turns, those not read yet read in one pipelined read: the re-rank
 * looked at many more hits than it keeps, from their briefs alone. A turn deleted since the search is passed over,
 * and the next hits are read in its place.
 */
export async function bestHits(store: Pick<MemoryStore, 'getTurns'>, ranked: (VectorHit & { score: number; turn?: StoredTurn })[], k: number): Promise<RetrievedMemory[]> {
  const out: RetrievedMemory[] = [];
  for (let next = 0; out.length < k && next < ranked.length; ) {
    const batch = ranked.slice(next, (next += k - out.length));
    const read = await store.getTurns(batch.filter((h) => !h.turn).map((h) => h.key));
    let i = 0;
    for (const h of batch) {
      const turn = h.turn ?? read[i++];
      if (turn) out.push(retrieved(h, turn));
    }
  }
  return out;
}
