import type { MemoryConfig } from '@app/memory/config/memory-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import type { StoredTurn } from '@app/memory/store/turn';
import { asksWhen, datesIn, eventDate } from '@app/memory/time/text-dates';
import { speakerOf } from '@app/memory/store/turn-speaker';
import { words } from '@app/memory/vector/text-terms';
import { ExactIndex } from '@app/memory/vector/in-process/exact-index';
import type { SearchMode } from '@app/memory/vector/vector-index';
import { VectorMirror } from '@app/memory/vector/in-process/vector-mirror';
import { rerank, rerankDepth } from '../../../../retriever/src/retrieve/rerank';
import type { LocomoConversation } from './locomo-data';

/**
 * For iterating on ranking: what the service does for a search, in this process. Each conversation's turns go into
 * the exact core (the hnsw backend scans sessions this small exactly) with the embedder's context, event date and speaker,
 * and each question is ranked and re-ranked as the retriever does. Returns, per question, the dia_ids best first.
 */
export async function inProcessRankings(
  conversations: LocomoConversation[],
  config: MemoryConfig,
  modes: SearchMode[],
  k: number,
): Promise<Map<SearchMode, string[][]>> {
  const embedder = createEmbeddingProvider(config);
  const out = new Map<SearchMode, string[][]>(modes.map((m) => [m, []]));
  for (const c of conversations) {
    const core = new ExactIndex(new VectorMirror(config.EMBEDDING_DIM), config.HYBRID_TEXT_WEIGHT);
    const vectors = await embedder.embed(c.turns.map((t) => t.content));
    const turns = new Map<string, StoredTurn & { diaId: string }>();
    c.turns.forEach((t, i) => {
      const key = `${c.id}:${i + 1}`;
      const [eventAt, speaker] = [eventDate(t.content, t.timestamp), speakerOf(t.content)];
      turns.set(key, {
        key, diaId: t.diaId, tenant: 'lab', session: c.id, seq: i + 1, turnId: t.diaId, role: 'user', content: t.content, timestamp: t.timestamp, tokenCount: 0,
        ...(eventAt !== undefined ? { eventAt } : {}), ...(speaker !== undefined ? { speaker } : {}),
      });
      core.add({ key, tenant: 'lab', session: c.id, role: 'user', timestamp: t.timestamp, embedding: vectors[i], content: t.content, context: c.turns[i - 1]?.content });
    });
    const asOf = Math.max(...c.turns.map((t) => t.timestamp));
    for (const q of c.questions) {
      const [vector] = await embedder.embed([q.question]);
      for (const mode of modes) {
        const ranked = core.search({ tenant: 'lab', sessions: [c.id], k: rerankDepth(config, k), mode, vector: mode === 'text' ? undefined : vector, text: q.question });
        const hits = ranked.map((r) => ({ ...r, turn: turns.get(r.key)! }));
        const memories = rerank(hits, {
          weight: 0, k, dates: datesIn(q.question, asOf), asksWhen: asksWhen(q.question),
          dateWeight: config.RERANK_DATE_WEIGHT, neighbourWeight: config.RERANK_NEIGHBOUR_WEIGHT,
          queryWords: new Set(words(q.question)), speakerWeight: config.RERANK_SPEAKER_WEIGHT,
        });
        out.get(mode)!.push(memories.map((m) => turns.get(m.key)!.diaId));
      }
    }
  }
  return out;
}
