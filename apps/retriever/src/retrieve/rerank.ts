import type { MemoryConfig, RetrievedMemory, StoredTurn, VectorHit } from '@app/memory';
import type { DateSpan } from '@app/memory/time/text-dates';
import { namesSpeaker } from '@app/memory/store/turn-speaker';

export interface RerankOptions {
  /** 0 ranks by similarity alone; up to 1 blends in recency. */
  weight: number;
  /** Hits scoring below this are left out. */
  minScore?: number;
  /** Recency's scale: 0 at `start`, 1 at `end` (the newest turn in scope), linear in between. */
  span?: { start: number; end: number };
  /** The dates the query names: a turn of (or naming) one of them gains `dateWeight`. */
  dates?: DateSpan[];
  /** The query asks "when": a turn that names a date gains `dateWeight` / 2. */
  asksWhen?: boolean;
  dateWeight?: number;
  /** A hit gains this share of the best similarity among its adjacent turns in the same list (neighbour agreement). */
  neighbourWeight?: number;
  /** The query's lowercased words: a turn whose speaker they name gains `speakerWeight`. */
  queryWords?: ReadonlySet<string>;
  speakerWeight?: number;
  /** A reranker model's score of each hit (in the hits' order), used in place of the index's similarity. */
  scores?: number[];
}

/**
 * How many hits to re-rank for the best k: re-ranking can lift a hit from far below the top k, so it looks at a wider
 * set, as wide for a client asking 10 as for one asking 50.
 */
export const rerankDepth = (config: MemoryConfig, k: number): number =>
  config.RECENCY_WEIGHT > 0 || config.RERANK_DATE_WEIGHT > 0 || config.RERANK_NEIGHBOUR_WEIGHT > 0 || config.RERANK_SPEAKER_WEIGHT > 0 ||
  config.RERANK_PROVIDER !== 'none'
    ? Math.max(k * 3, config.RERANK_DEPTH)
    : k;

const within = (t: number | undefined, spans: DateSpan[]) => t !== undefined && spans.some((s) => t >= s.start && t < s.end);

/**
 * The one re-ranking stage: score = (1 - w) * relevance + w * recency, where relevance is the index's similarity
 * (or a reranker model's score, when one answered) plus the offline features (a date the query names, a date for a
 * "when" question, the neighbours' agreement, the speaker the query names), and recency runs over the span of the
 * scope (not up to the server's clock, which would squeeze an old conversation into a narrow band). With every weight
 * 0 the order is the index's order. It reads the hits' briefs only: every hit that scores at least minScore comes
 * back, best first, and the caller reads the whole turns of the best k.
 */
export function rerank<H extends VectorHit>(hits: H[], opts: RerankOptions): (H & { score: number })[] {
  const { weight, minScore, span, dates = [], asksWhen = false, dateWeight = 0, neighbourWeight = 0, queryWords = new Set<string>(), speakerWeight = 0, scores } = opts;
  const recency = (ts: number) => (!span ? 0 : span.end <= span.start ? 1 : Math.min(1, Math.max(0, (ts - span.start) / (span.end - span.start))));
  const base = (i: number) => scores?.[i] ?? hits[i].similarity;
  const bySeq = new Map(hits.flatMap((h, i) => (h.brief.memory ? [] : [[`${h.brief.session}\n${h.brief.seq}`, base(i)]])));
  const neighbour = ({ brief }: VectorHit) =>
    brief.memory ? 0 : Math.max(bySeq.get(`${brief.session}\n${brief.seq - 1}`) ?? 0, bySeq.get(`${brief.session}\n${brief.seq + 1}`) ?? 0);
  const relevance = (h: VectorHit, i: number) =>
    base(i) +
    dateWeight * (within(h.brief.timestamp, dates) || within(h.brief.eventAt, dates) ? 1 : asksWhen && h.brief.eventAt !== undefined ? 0.5 : 0) +
    neighbourWeight * neighbour(h) +
    (namesSpeaker(queryWords, h.brief.speaker) ? speakerWeight : 0);
  return hits
    .map((h, i) => ({ ...h, score: (1 - weight) * relevance(h, i) + weight * recency(h.brief.timestamp) }))
    .filter((h) => minScore === undefined || h.score >= minScore)
    .sort((a, b) => b.score - a.score || b.brief.timestamp - a.brief.timestamp);
}

/** A re-ranked hit with its whole turn, as a search answers it. */
export function retrieved({ key, similarity, text, vector, score }: VectorHit & { score: number }, turn: StoredTurn): RetrievedMemory {
  return {
    key,
    session: turn.session,
    seq: turn.seq,
    turnId: turn.turnId,
    ...(turn.user ? { user: turn.user } : {}),
    role: turn.role,
    content: turn.content,
    timestamp: turn.timestamp,
    ...(turn.tags ? { tags: turn.tags } : {}),
    ...(turn.metadata ? { metadata: turn.metadata } : {}),
    ...(turn.memory ? { memory: turn.memory } : {}),
    similarity,
    ...(text !== undefined ? { text } : {}),
    ...(vector !== undefined ? { vector } : {}),
    score,
  };
}
