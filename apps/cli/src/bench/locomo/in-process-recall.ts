import type { MemoryConfig } from '@app/memory/config/memory-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
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
    const diaIds = new Map<string, string>();
    c.turns.forEach((t, i) => {
      const key = `${c.id}:${i + 1}`;
      const [eventAt, speaker] = [eventDate(t.content, t.timestamp), speakerOf(t.content)];
      diaIds.set(key, t.diaId);
      core.add({
        key, tenant: 'lab', session: c.id, role: 'user', timestamp: t.timestamp, seq: i + 1,
        ...(eventAt !== undefined ? { eventAt } : {}), ...(speaker !== undefined ? { speaker } : {}),
        embedding: vectors[i], content: t.content, context: c.turns[i - 1]?.content,
      });
    });
    const asOf = Math.max(...c.turns.map((t) => t.timestamp));
    for (const q of c.questions) {
      const [vector] = await embedder.embed([q.question]);
      for (const mode of modes) {
        const ranked = core.search({ tenant: 'lab', sessions: [c.id], k: rerankDepth(config, k), mode, vector: mode === 'text' ? undefined : vector, text: q.question });
        const memories = rerank(core.mirror.withBriefs(ranked), {
          weight: 0, dates: datesIn(q.question, asOf), asksWhen: asksWhen(q.question),
          dateWeight: config.RERANK_DATE_WEIGHT, neighbourWeight: config.RERANK_NEIGHBOUR_WEIGHT,
          queryWords: new Set(words(q.question)), speakerWeight: config.RERANK_SPEAKER_WEIGHT,
        });
        out.get(mode)!.push(memories.slice(0, k).map((m) => diaIds.get(m.key)!));
      }
    }
  }
  return out;
}
