import { Inject, Injectable } from '@nestjs/common';
import type { VectorIndex } from '@app/memory';
import { ContextAssembler, MemoryConfig, MemoryStore, RetrieveJob, RetrieveResult } from '@app/memory';
import { VECTOR_INDEX } from '@app/memory/nest/tokens';
import { QueryEmbedder } from './query-embedder';
import { rerank } from './rerank';

/** Embed the query, search with the filters, re-rank, and optionally assemble the LLM context. */
@Injectable()
export class RetrieveService {
  constructor(
    private readonly queries: QueryEmbedder,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly store: MemoryStore,
    private readonly assembler: ContextAssembler,
    private readonly config: MemoryConfig,
  ) {}

  async retrieve(job: RetrieveJob): Promise<RetrieveResult> {
    const t0 = performance.now();
    const vector = await this.queries.embed(job.query);
    const t1 = performance.now();

    const exclude = new Set(job.exclude ?? []);
    const weight = this.config.RECENCY_WEIGHT;
    // Recency can lift a hit from below the top k, so re-ranking looks at a wider set.
    const candidates = (weight > 0 ? job.k * 3 : job.k) + exclude.size;
    const hits = await this.index.search({
      tenant: job.tenant,
      sessions: job.sessions,
      since: job.since,
      until: job.until,
      roles: job.role && [job.role],
      minLogIds: job.minLogIds,
      k: candidates,
      vector,
    });
    const now = Date.now();
    const memories = rerank(
      hits.filter((h) => !exclude.has(h.key)),
      { now, windowMs: job.since === undefined ? 0 : now - job.since, weight, k: job.k },
    );
    const t2 = performance.now();

    let context: RetrieveResult['context'];
    if (job.assemble) {
      const { session, recentTurns, maxTokens } = job.assemble;
      const recent = (await this.store.recent(job.tenant, session, recentTurns + exclude.size)).filter((t) => !exclude.has(t.key));
      const assembled = this.assembler.assemble({ memories, recent: recent.slice(-recentTurns), maxTokens });
      const dropped = assembled.dropped.filter((d) => d.reason === 'budget').length;
      context = { text: assembled.text, tokens: assembled.tokens, dropped };
    }
    const t3 = performance.now();
    return { memories, context, timings: { embedMs: t1 - t0, searchMs: t2 - t1, assembleMs: t3 - t2 } };
  }
}
