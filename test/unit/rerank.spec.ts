import type { VectorHit } from '@app/memory/vector/vector-index';
import { rerank } from '../../apps/retriever/src/retrieve/rerank';

const YEAR_2020 = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;

const hit = (seq: number, similarity: number, timestamp: number): VectorHit => ({
  key: `k${seq}`,
  similarity,
  turn: { key: `k${seq}`, tenant: 't', session: 's', seq, turnId: `id-${seq}`, role: 'user', content: `c${seq}`, timestamp, tokenCount: 1, user: 'alice', tags: ['x'], metadata: { n: seq } },
});

describe('rerank', () => {
  it('ranks by similarity alone at weight 0 and carries which turn each hit is', () => {
    const out = rerank([hit(1, 0.5, YEAR_2020), hit(2, 0.9, YEAR_2020)], { weight: 0, k: 5 });
    expect(out.map((m) => m.seq)).toEqual([2, 1]);
    expect(out[0]).toEqual({
      key: 'k2', session: 's', seq: 2, turnId: 'id-2', user: 'alice', role: 'user', content: 'c2', timestamp: YEAR_2020, tags: ['x'], metadata: { n: 2 },
      similarity: 0.9, score: 0.9,
    });
  });

  it('measures recency over the scope (its first turn to its newest), so an old conversation keeps its full range', () => {
    // A conversation that ended years before "now": its last day is recency 1, its first day 0.
    const span = { start: YEAR_2020, end: YEAR_2020 + 10 * DAY };
    const hits = [hit(1, 0.8, YEAR_2020), hit(2, 0.7, YEAR_2020 + 5 * DAY), hit(3, 0.6, YEAR_2020 + 10 * DAY)];
    const out = rerank(hits, { weight: 0.5, k: 3, span });
    expect(out.map((m) => [m.seq, m.score])).toEqual([
      [3, 0.5 * 0.6 + 0.5 * 1],
      [2, 0.5 * 0.7 + 0.5 * 0.5],
      [1, 0.5 * 0.8 + 0.5 * 0],
    ]);
  });

  it('gives every hit full recency when the scope spans one instant', () => {
    const out = rerank([hit(1, 0.2, YEAR_2020)], { weight: 0.5, k: 1, span: { start: YEAR_2020, end: YEAR_2020 } });
    expect(out[0].score).toBeCloseTo(0.6, 10);
  });

  it('leaves out hits scoring below minScore, then keeps the top k', () => {
    const hits = [hit(1, 0.9, 0), hit(2, -0.2, 0), hit(3, 0.31, 0), hit(4, 0.29, 0), hit(5, 0.5, 0)];
    expect(rerank(hits, { weight: 0, k: 10, minScore: 0.3 }).map((m) => m.seq)).toEqual([1, 5, 3]);
    expect(rerank(hits, { weight: 0, k: 2, minScore: 0.3 }).map((m) => m.seq)).toEqual([1, 5]);
  });
});
