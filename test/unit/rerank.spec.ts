import type { StoredTurn, TurnBrief } from '@app/memory/store/turn';
import type { VectorHit } from '@app/memory/vector/vector-index';
import { loadConfig } from '@app/memory/config/load-config';
import { words } from '@app/memory/vector/text-terms';
import { rerank, rerankDepth, type RerankOptions, retrieved } from '../../apps/retriever/src/retrieve/rerank';

const YEAR_2020 = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;

const hit = (seq: number, similarity: number, timestamp: number, brief: Partial<TurnBrief> = {}): VectorHit => ({
  key: `k${seq}`,
  similarity,
  brief: { session: 's', seq, timestamp, memory: false, ...brief },
});
const turn = (seq: number, timestamp: number): StoredTurn => ({
  key: `k${seq}`, tenant: 't', session: 's', seq, turnId: `id-${seq}`, role: 'user', content: `c${seq}`, timestamp, tokenCount: 1, user: 'alice', tags: ['x'], metadata: { n: seq },
});
/** The best k, as the retriever keeps them. */
const top = (hits: VectorHit[], opts: RerankOptions, k: number) => rerank(hits, opts).slice(0, k).map((h) => ({ ...h, seq: h.brief.seq }));

describe('rerank', () => {
  it('ranks by similarity alone at weight 0, and answers each with its whole turn', () => {
    const out = top([hit(1, 0.5, YEAR_2020), hit(2, 0.9, YEAR_2020)], { weight: 0 }, 5);
    expect(out.map((m) => m.seq)).toEqual([2, 1]);
    expect(retrieved(out[0], turn(2, YEAR_2020))).toEqual({
      key: 'k2', session: 's', seq: 2, turnId: 'id-2', user: 'alice', role: 'user', content: 'c2', timestamp: YEAR_2020, tags: ['x'], metadata: { n: 2 },
      similarity: 0.9, score: 0.9,
    });
  });

  it('measures recency over the scope (its first turn to its newest), so an old conversation keeps its full range', () => {
    // A conversation that ended years before "now": its last day is recency 1, its first day 0.
    const span = { start: YEAR_2020, end: YEAR_2020 + 10 * DAY };
    const hits = [hit(1, 0.8, YEAR_2020), hit(2, 0.7, YEAR_2020 + 5 * DAY), hit(3, 0.6, YEAR_2020 + 10 * DAY)];
    const out = top(hits, { weight: 0.5, span }, 3);
    expect(out.map((m) => [m.seq, m.score])).toEqual([
      [3, 0.5 * 0.6 + 0.5 * 1],
      [2, 0.5 * 0.7 + 0.5 * 0.5],
      [1, 0.5 * 0.8 + 0.5 * 0],
    ]);
  });

  it('gives every hit full recency when the scope spans one instant', () => {
    const out = top([hit(1, 0.2, YEAR_2020)], { weight: 0.5, span: { start: YEAR_2020, end: YEAR_2020 } }, 1);
    expect(out[0].score).toBeCloseTo(0.6, 10);
  });

  it('leaves out hits scoring below minScore, then keeps the top k', () => {
    const hits = [hit(1, 0.9, 0), hit(2, -0.2, 0), hit(3, 0.31, 0), hit(4, 0.29, 0), hit(5, 0.5, 0)];
    expect(top(hits, { weight: 0, minScore: 0.3 }, 10).map((m) => m.seq)).toEqual([1, 5, 3]);
    expect(top(hits, { weight: 0, minScore: 0.3 }, 2).map((m) => m.seq)).toEqual([1, 5]);
  });

  it("lifts the turns of the speaker the query names over turns that only address them by name", () => {
    // The question names Melanie; Caroline's turn ("Caroline: Melanie, what do your kids like to do?") says "Melanie"
    // too and matches more of its words than Melanie's ("Melanie: They were stoked for the dinosaur exhibit!").
    const hits = [hit(1, 0.6, YEAR_2020, { speaker: 'Caroline' }), hit(2, 0.45, YEAR_2020, { speaker: 'Melanie' })];
    const queryWords = new Set(words("What do Melanie's kids like?"));
    expect(top(hits, { weight: 0, queryWords }, 2).map((m) => m.seq)).toEqual([1, 2]);
    const focused = top(hits, { weight: 0, queryWords, speakerWeight: 0.2 }, 2);
    expect(focused.map((m) => [m.seq, Number(m.score.toFixed(3))])).toEqual([[2, 0.65], [1, 0.6]]);
    expect(focused[0].similarity).toBe(0.45);
    // A query naming nobody, or both speakers, leaves the order alone.
    expect(top(hits, { weight: 0, queryWords: new Set(words('what do the kids like')), speakerWeight: 0.2 }, 2).map((m) => m.seq)).toEqual([1, 2]);
    expect(top(hits, { weight: 0, queryWords: new Set(words('what do Melanie and Caroline like')), speakerWeight: 0.2 }, 2).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('lifts a turn dated on, or naming, a date the query names, and a dated turn for a "when" question by half as much', () => {
    const may = { start: Date.UTC(2023, 4, 1), end: Date.UTC(2023, 5, 1) };
    const inMay = hit(1, 0.5, Date.UTC(2023, 4, 8));
    const namesMay = hit(2, 0.5, Date.UTC(2023, 6, 1), { eventAt: Date.UTC(2023, 4, 20) });
    const best = hit(3, 0.55, Date.UTC(2023, 6, 1));
    const out = top([best, inMay, namesMay], { weight: 0, dates: [may], dateWeight: 0.1 }, 3);
    // 1 and 2 tie at 0.6: the newer first.
    expect(out.map((m) => m.seq)).toEqual([2, 1, 3]);
    expect(out[0].score).toBeCloseTo(0.6);
    expect(out[1].similarity).toBe(0.5);
    const when = top([best, namesMay], { weight: 0, asksWhen: true, dateWeight: 0.1 }, 2);
    expect(when.map((m) => [m.seq, Number(m.score.toFixed(3))])).toEqual([[3, 0.55], [2, 0.55]]);
    expect(top([best, inMay], { weight: 0, dates: [may], dateWeight: 0 }, 2).map((m) => m.seq)).toEqual([3, 1]);
  });

  it('lifts a hit whose adjacent turn is also among the hits (neighbour agreement), never an extracted memory', () => {
    const lone = hit(10, 0.6, YEAR_2020);
    const [a, b] = [hit(20, 0.5, YEAR_2020), hit(21, 0.5, YEAR_2020)];
    const out = top([lone, a, b], { weight: 0, neighbourWeight: 0.3 }, 3);
    expect(out.map((m) => m.seq)).toEqual([20, 21, 10]);
    expect(out[0].score).toBeCloseTo(0.65);
    const memory = hit(22, 0.5, YEAR_2020, { memory: true });
    const withMemory = top([lone, memory, b], { weight: 0, neighbourWeight: 0.3 }, 3);
    expect(withMemory.find((m) => m.seq === 22)!.score).toBe(0.5);
    expect(withMemory.find((m) => m.seq === 21)!.score).toBe(0.5);
  });

  it("ranks by a reranker model's scores in place of the similarity, its neighbours' scores included, and keeps the index's similarity", () => {
    const hits = [hit(1, 0.9, YEAR_2020), hit(5, 0.2, YEAR_2020), hit(6, 0.1, YEAR_2020)];
    const out = top(hits, { weight: 0, neighbourWeight: 0.5, scores: [0.3, 0.8, 0.1] }, 3);
    expect(out.map((m) => [m.seq, Number(m.score.toFixed(3)), m.similarity])).toEqual([[5, 0.85, 0.2], [6, 0.5, 0.1], [1, 0.3, 0.9]]);
  });

  it('re-ranks as many hits for a client asking 10 as for one asking 50 (RERANK_DEPTH), and only k when nothing re-ranks', () => {
    const config = loadConfig({});
    expect([rerankDepth(config, 10), rerankDepth(config, 50), rerankDepth(config, 100)]).toEqual([150, 150, 300]);
    expect(rerankDepth(loadConfig({ RERANK_DEPTH: '20' }), 10)).toBe(30);
    expect(rerankDepth(loadConfig({ RERANK_DATE_WEIGHT: '0', RERANK_NEIGHBOUR_WEIGHT: '0', RERANK_SPEAKER_WEIGHT: '0' }), 10)).toBe(10);
  });

  it('passes the text and vector components of a hit through', () => {
    const [m] = top([{ ...hit(1, 0.4, YEAR_2020), text: 0.5, vector: 0.2 }], { weight: 0 }, 1);
    expect(retrieved(m, turn(1, YEAR_2020))).toMatchObject({ similarity: 0.4, text: 0.5, vector: 0.2 });
  });
});
