import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { MemoryOp, MemoryScope, MemoryVector, StoredTurn, StructuredLlm, StructuredReply } from '@app/memory';
import { embeddingFields, ExtractJob, ExtractResult, GenerationEmbedder, GenerationWatch, MemoryConfig, MemoryRepository, MemoryStore, Metrics } from '@app/memory';
import { startTimer } from '@app/memory/metrics/timer';
import { askStructured } from '../ask-structured';
import { STRUCTURED_LLM } from '../structured-llm.token';
import {
  DECISIONS_INSTRUCTIONS,
  DECISIONS_SCHEMA,
  type ExtractedFact,
  FACTS_INSTRUCTIONS,
  FACTS_SCHEMA,
  parseDecisions,
  parseFacts,
} from './extraction-answers';
import { nearestMemories } from './nearest-memories';

/** Another job of the same scope moved the watermark meanwhile this many times in a row: give the attempt up (retried). */
const MAX_RACES = 3;

interface Candidate extends ExtractedFact {
  /** By generation field: every generation a write goes to now. */
  embedding: Record<string, Float32Array>;
  neighbours: MemoryVector[];
}

interface Plan {
  ops: MemoryOp[];
  unchanged: number;
}

/**
 * Extracts long-term memories from a session's new turns, the way mem0 does: the LLM states the facts, each is
 * compared with its nearest stored memories, and the LLM decides ADD, UPDATE, DELETE or NOOP. Everything is then
 * applied in one script that also moves the session's watermark, only if no other job moved it first: a job that
 * crashed before applying is simply run again, and one that applied leaves nothing to do to its replay.
 */
@Injectable()
export class ExtractMemoriesService {
  constructor(
    @Inject(STRUCTURED_LLM) private readonly llm: StructuredLlm | undefined,
    private readonly embedder: GenerationEmbedder,
    private readonly generations: GenerationWatch,
    private readonly store: MemoryStore,
    private readonly memories: MemoryRepository,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {}

  async extract(job: ExtractJob): Promise<ExtractResult> {
    if (!this.llm) throw new UnrecoverableError('extraction is off: LLM_PROVIDER=local has no model to extract facts with');
    const total: ExtractResult = { turns: 0, added: 0, updated: 0, deleted: 0, watermark: 0 };
    // Batch after batch until the session has no turn left past its watermark.
    for (let races = 0; ; ) {
      const elapsed = startTimer();
      const scope = MemoryRepository.scopeOf(job.tenant, job.session, await this.store.sessionUser(job.tenant, job.session));
      await this.memories.flushLog(scope, job.session);
      const watermark = await this.memories.watermark(scope, job.session);
      const turns = await this.readyTurns(job, watermark);
      total.watermark = watermark;
      if (turns.length === 0) return total;
      const next = turns[turns.length - 1].seq;
      const plan = await this.plan(scope, job.session, turns, next);
      const applied = await this.memories.apply(scope, job.session, watermark, next, plan.ops);
      if (applied.applied) await this.catchUp(scope, plan.ops);
      if (!applied.applied) {
        if (++races >= MAX_RACES) throw new Error(`the watermark of ${job.session} kept moving under this job`);
        continue;
      }
      races = 0;
      this.metrics.observeExtraction(elapsed(), turns.length);
      this.metrics.countMemoryChange('added', applied.added);
      this.metrics.countMemoryChange('updated', applied.updated);
      this.metrics.countMemoryChange('deleted', applied.deleted);
      this.metrics.countMemoryChange('unchanged', plan.unchanged);
      Object.assign(total, {
        turns: total.turns + turns.length,
        added: total.added + applied.added,
        updated: total.updated + applied.updated,
        deleted: total.deleted + applied.deleted,
        watermark: next,
      });
    }
  }

  /**
   * The turns past the watermark that can be extracted now: those before the first turn accepted and not stored yet.
   * The embedder stores a request's turns in several micro-batches, so a later turn can be stored before an earlier
   * one, and the watermark must not pass a turn that is still on its way; storing it queues the session's next
   * extraction. Pending turns are read before the history: a turn missing from both was deleted, not delayed.
   */
  private async readyTurns(job: ExtractJob, watermark: number): Promise<StoredTurn[]> {
    const pending = (await this.store.pendingSeqs(job.tenant, job.session)).filter((seq) => seq > watermark);
    const turns = await this.store.turnsAfter(job.tenant, job.session, watermark, this.config.EXTRACT_MAX_TURNS);
    const gap = pending.reduce((first, seq) => Math.min(first, seq), Infinity);
    return turns.filter((t) => t.seq < gap);
  }

  /** The ops for one batch of turns: facts extracted, compared with their neighbours, decided. */
  private async plan(scope: MemoryScope, session: string, turns: StoredTurn[], next: number): Promise<Plan> {
    const facts = await this.facts(turns);
    if (facts.length === 0) return { ops: [], unchanged: 0 };
    // Candidates are compared with the stored memories in the active generation.
    const { field } = this.generations.active;
    const [embedded, stored] = await Promise.all([this.embedder.forWrite(facts.map((f) => f.content)), this.memories.vectors(scope, field)]);
    const candidates: Candidate[] = facts.map((f, i) => ({
      ...f,
      embedding: embedded.vectors[i],
      neighbours: nearestMemories(embedded.vectors[i][field], stored, this.config.EXTRACT_NEIGHBOURS),
    }));
    const decisions = stored.length === 0 ? undefined : await this.decide(candidates);

    const ops: MemoryOp[] = [];
    const touched = new Set<string>();
    let unchanged = 0;
    // An update's new text is usually not the candidate's: it then gets a vector of its own.
    const reworded: (MemoryOp & { op: 'update' })[] = [];
    candidates.forEach((c, i) => {
      const d = decisions?.[i] ?? { event: 'ADD' as const, memoryId: null, content: null };
      // Only an UPDATE or DELETE acts on the memory it names (a NOOP may name the neighbour that already says it).
      const target = d.event === 'UPDATE' || d.event === 'DELETE' ? c.neighbours.find((n) => n.memory.id === d.memoryId)!.memory : undefined;
      // One change per memory and extraction: a second candidate deciding on the same memory changes nothing.
      if (d.event === 'NOOP' || (target && touched.has(target.id))) return void unchanged++;
      if (target) touched.add(target.id);
      const sources = c.sourceTurnIds.map((turnId) => ({ session, turnId }));
      const fields = { content: c.content, type: c.type, entities: c.entities, sources, embedding: c.embedding };
      if (d.event === 'ADD') ops.push({ op: 'add', id: MemoryRepository.memoryId(scope, session, next, i), ...fields });
      else if (d.event === 'DELETE') ops.push({ op: 'delete', id: target!.id });
      else {
        const op = { op: 'update' as const, id: target!.id, ...fields, content: d.content ?? c.content, sources: mergeSources(target!.sources, sources) };
        if (op.content !== c.content) reworded.push(op);
        ops.push(op);
      }
    });
    if (reworded.length > 0) (await this.embedder.forWrite(reworded.map((op) => op.content))).vectors.forEach((v, i) => (reworded[i].embedding = v));
    return { ops, unchanged };
  }

  /** A re-index that began while the batch was planned (LLM calls take seconds) gets the memories' new vectors now. */
  private async catchUp(scope: MemoryScope, ops: MemoryOp[]): Promise<void> {
    const written = ops.flatMap((op) => (op.op === 'delete' ? [] : [{ key: this.store.keys.memory(scope, op.id), content: op.content, fields: embeddingFields(op.embedding).map(([f]) => f) }]));
    if (written.length > 0) await this.embedder.catchUp(this.store, written[0].fields, written);
  }

  private async facts(turns: StoredTurn[]): Promise<ExtractedFact[]> {
    const input = { turns: turns.map((t) => ({ id: t.turnId, role: t.role, time: new Date(t.timestamp).toISOString(), content: t.content })) };
    const reply = await this.ask(FACTS_INSTRUCTIONS, input, 'memory_facts', FACTS_SCHEMA);
    const facts = parseFacts(reply.value, new Set(turns.map((t) => t.turnId)));
    // The same fact stated twice in one batch is one candidate.
    const seen = new Set<string>();
    return facts.filter((f) => {
      const key = f.content.toLowerCase().replace(/\s+/g, ' ');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private async decide(candidates: Candidate[]) {
    const input = {
      candidates: candidates.map((c, i) => ({
        candidate: i,
        content: c.content,
        type: c.type,
        neighbours: c.neighbours.map((n) => ({ memoryId: n.memory.id, content: n.memory.content })),
      })),
    };
    const reply = await this.ask(DECISIONS_INSTRUCTIONS, input, 'memory_decisions', DECISIONS_SCHEMA);
    return parseDecisions(reply.value, candidates.map((c) => new Set(c.neighbours.map((n) => n.memory.id))));
  }

  private ask(instructions: string, input: object, name: string, schema: Record<string, unknown>): Promise<StructuredReply> {
    return askStructured(this.llm!, this.metrics, { instructions, input, name, schema });
  }
}

/** The union of two source lists, in order, each turn once. */
function mergeSources<T extends { session: string; turnId: string }>(a: T[], b: T[]): T[] {
  const seen = new Set(a.map((s) => `${s.session}\n${s.turnId}`));
  return [...a, ...b.filter((s) => !seen.has(`${s.session}\n${s.turnId}`))];
}
