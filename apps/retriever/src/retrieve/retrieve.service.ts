import { Inject, Injectable } from '@nestjs/common';
import { loadTurns, type VectorHit, type VectorIndex, type VectorQuery } from '@app/memory';
import {
  buildMemoryContext,
  ContextAssembler,
  GenerationWatch,
  MEMORY_KINDS,
  MemoryConfig,
  MemoryStore,
  RetrievedMemory,
  RetrieveJob,
  RetrieveResult,
  SessionSummaryRepository,
  StoredTurn,
} from '@app/memory';
import { asksWhen, datesIn } from '@app/memory/time/text-dates';
import { words } from '@app/memory/vector/text-terms';
import { VECTOR_INDEX } from '@app/memory/nest/tokens';
import { HttpReranker } from './http-reranker';
import { QueryEmbedder } from './query-embedder';
import { bestHits } from './best-hits';
import { rerank, rerankDepth, type RerankOptions } from './rerank';

/**
 * Embed the query, search with the filters, re-rank (with the reranker model, if one is set), and optionally assemble
 * the LLM context. The index answers the re-rank depth's hits with their briefs; the whole turns read are the best k's
 * (or every hit's, when a reranker model needs their texts).
 */
@Injectable()
export class RetrieveService {
  constructor(
    private readonly queries: QueryEmbedder,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly store: MemoryStore,
    private readonly summaries: SessionSummaryRepository,
    private readonly assembler: ContextAssembler,
    private readonly config: MemoryConfig,
    private readonly watch: GenerationWatch,
    private readonly reranker: HttpReranker,
  ) {}

  async retrieve(job: RetrieveJob): Promise<RetrieveResult> {
    const t0 = performance.now();
    const mode = job.mode ?? 'hybrid';
    // One generation for the whole search: the query is embedded, and searched, in the one active now.
    const generation = this.watch.active;
    // The text mode needs no embedding.
    const vector = mode === 'text' ? undefined : await this.queries.embed(generation, job.tenant, job.query);
    const t1 = performance.now();

    const exclude = new Set(job.exclude ?? []);
    const weight = this.config.RECENCY_WEIGHT;
    const depth = rerankDepth(this.config, job.k) + exclude.size;
    const query: VectorQuery = {
      tenant: job.tenant,
      sessions: job.sessions,
      users: job.users,
      since: job.since,
      until: job.until,
      roles: job.roles,
      tags: job.tags,
      minLogIds: job.minLogIds,
      k: depth,
      mode,
      vector,
      text: job.query,
      generation: generation.fingerprint,
    };
    const [hits, span] = await Promise.all([this.search(job, query), weight > 0 ? this.recencySpan(job) : undefined]);
    let candidates: (VectorHit & { turn?: StoredTurn })[] = hits.filter((h) => !exclude.has(h.key));
    let scores: number[] | undefined;
    if (this.config.RERANK_PROVIDER !== 'none') {
      // The reranker model reads every hit's text: the user's choice to pay for reading them all.
      const loaded = await loadTurns(this.store, candidates);
      scores = await this.reranker.score(job.query, loaded.map((h) => h.turn.content));
      candidates = loaded;
    }
    const ranked = rerank(candidates, {
      weight, minScore: job.minScore, span, scores,
      dates: datesIn(job.query, job.asOf ?? Date.now()), asksWhen: asksWhen(job.query),
      dateWeight: this.config.RERANK_DATE_WEIGHT, neighbourWeight: this.config.RERANK_NEIGHBOUR_WEIGHT,
      queryWords: new Set(words(job.query)), speakerWeight: this.config.RERANK_SPEAKER_WEIGHT,
    });
    const best = await bestHits(this.store, ranked, job.k);
    const memories = job.neighbours ? await this.withNeighbours(job.tenant, best, job.neighbours, exclude) : best;
    const t2 = performance.now();

    let context: RetrieveResult['context'];
    if (job.assemble) {
      const { session, recentTurns, maxTokens } = job.assemble;
      const [latest, summary] = await Promise.all([
        this.store.recent(job.tenant, session, recentTurns + exclude.size),
        job.assemble.summary === false ? undefined : this.summaries.current(job.tenant, session),
      ]);
      const kept = latest.filter((t) => !exclude.has(t.key));
      const recent = kept.slice(Math.max(0, kept.length - recentTurns));
      const shown = summary && { text: summary.text, fromSeq: summary.fromSeq, toSeq: summary.toSeq };
      context = await buildMemoryContext(this.assembler, { memories, recent, summary: shown, maxTokens });
    }
    const t3 = performance.now();
    return { memories, context, timings: { embedMs: t1 - t0, searchMs: t2 - t1, assembleMs: t3 - t2 }, generation: generation.id };
  }

  /** Each turn hit with its session's stored turns up to `n` seqs before and after it, in one pipelined read (a memory has none). */
  private async withNeighbours(tenant: string, memories: RetrievedMemory[], n: number, exclude: Set<string>): Promise<RetrievedMemory[]> {
    const around = memories.map((m) => (m.memory ? [] : [...Array(2 * n + 1).keys()].map((i) => m.seq - n + i).filter((seq) => seq !== m.seq && seq > 0)));
    const turns = await this.store.getTurns(memories.flatMap((m, i) => around[i].map((seq) => this.store.keys.turn(tenant, m.session, seq))));
    let next = 0;
    return memories.map((m, i) => {
      const found = turns.slice(next, (next += around[i].length)).filter((t): t is StoredTurn => t !== null && !exclude.has(t.key));
      if (m.memory) return m;
      return { ...m, neighbours: found.map(({ seq, turnId, role, content, timestamp }) => ({ seq, turnId, role, content, timestamp })) };
    });
  }

  /**
   * The job's turns, and the extracted memories of its scope, ranked together. Memories belong to a user or to a
   * session without one (not to a session of a user): a job that names sessions searches their users' memories,
   * found while the turns are searched, so the turn search starts at once. Memories carry no role or tag, so a job
   * filtered by either searches turns only.
   */
  private async search(job: RetrieveJob, query: VectorQuery): Promise<VectorHit[]> {
    const kinds = job.kinds ?? MEMORY_KINDS;
    const withMemories = kinds.includes('memory') && !job.roles && !job.tags;
    const [turns, memories] = await Promise.all([
      kinds.includes('turn') ? this.index.search({ ...query, kinds: ['turn'] }) : [],
      withMemories ? this.memoryQueries(job, { ...query, kinds: ['memory'] }).then((qs) => Promise.all(qs.map((q) => this.index.search(q)))) : [],
    ]);
    return [...turns, ...memories.flat()];
  }

  private async memoryQueries(job: RetrieveJob, memories: VectorQuery): Promise<VectorQuery[]> {
    if (job.users || !job.sessions) return [{ ...memories, sessions: undefined }];
    const owners = await Promise.all(job.sessions.map((s) => this.store.sessionUser(job.tenant, s)));
    const users = [...new Set(owners.filter((u): u is string => u !== undefined))];
    const ownerless = job.sessions.filter((_, i) => owners[i] === undefined);
    return [
      ...(users.length > 0 ? [{ ...memories, sessions: undefined, users }] : []),
      ...(ownerless.length > 0 ? [{ ...memories, sessions: ownerless }] : []),
    ];
  }

  /**
   * Recency runs from the window's start (or the scope's first turn) to the scope's newest turn (or the window's end,
   * if earlier). The scope is the job's sessions, else its users' sessions, else the tenant's.
   */
  private async recencySpan(job: RetrieveJob): Promise<RerankOptions['span']> {
    const scopes = job.sessions ? [job.sessions] : await Promise.all((job.users ?? [undefined]).map((user) => this.store.sessionNames(job.tenant, { user })));
    const { first, last } = await this.store.activity(job.tenant, [...new Set(scopes.flat())], job.users);
    if (first === undefined || last === undefined) return undefined;
    return { start: job.since ?? first, end: Math.min(job.until ?? Infinity, last) };
  }
}
