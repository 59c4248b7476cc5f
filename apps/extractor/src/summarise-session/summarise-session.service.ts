import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { StoredTurn, StructuredLlm, SummaryVersion } from '@app/memory';
import { MemoryConfig, MemoryStore, Metrics, SessionSummaryRepository, SummariseJob, SummariseResult } from '@app/memory';
import { askStructured } from '../ask-structured';
import { STRUCTURED_LLM } from '../structured-llm.token';
import { parseSummary, SUMMARY_INSTRUCTIONS, SUMMARY_SCHEMA } from './summary-answer';

/** The watermark moved (or a summarised turn was forgotten) under this job this many times in a row: give the attempt up (retried). */
const MAX_RACES = 3;

/**
 * Keeps a session's rolling summary: once the turns that have left the recent window and are not yet summarised pass
 * SUMMARY_THRESHOLD_TOKENS, the LLM folds them into the previous summary (structured output), and the new version is
 * written with the session's summary watermark in one script, only if the watermark is still the one read and every
 * turn summarised is still stored. A crashed job's replay finds the watermark it left, or the one it did not move.
 * With the offline responder there is no summary at all (see docs/architecture.md: an extractive one would only repeat
 * turns that retrieval already finds by relevance, and spend the budget on them regardless of the question).
 */
@Injectable()
export class SummariseSessionService {
  constructor(
    @Inject(STRUCTURED_LLM) private readonly llm: StructuredLlm | undefined,
    private readonly store: MemoryStore,
    private readonly summaries: SessionSummaryRepository,
    private readonly metrics: Metrics,
    private readonly config: MemoryConfig,
  ) {}

  async summarise(job: SummariseJob): Promise<SummariseResult> {
    if (!this.llm) throw new UnrecoverableError('summaries are off: LLM_PROVIDER=local has no model to summarise with');
    const total: SummariseResult = { turns: 0, versions: 0, watermark: 0 };
    for (let races = 0; ; ) {
      const watermark = await this.summaries.watermark(job.tenant, job.session);
      const [turns, previous] = await Promise.all([this.readyTurns(job, watermark), this.summaries.current(job.tenant, job.session)]);
      total.watermark = watermark;
      const full = turns.length >= this.config.SUMMARY_MAX_TURNS;
      if (turns.length === 0 || (!full && turns.reduce((n, t) => n + t.tokenCount, 0) < this.config.SUMMARY_THRESHOLD_TOKENS)) return total;
      // The current version and the watermark are read apart: a version that does not end at it was written meanwhile.
      const version = (previous?.toSeq ?? 0) === watermark ? await this.fold(previous, turns) : undefined;
      const written = version && (await this.summaries.write(job.tenant, job.session, watermark, version));
      if (!version || !written?.written) {
        if (++races >= MAX_RACES) throw new Error(`the summary watermark of ${job.session} kept moving under this job`);
        continue;
      }
      races = 0;
      Object.assign(total, { turns: total.turns + turns.length, versions: total.versions + 1, watermark: version.toSeq });
    }
  }

  /**
   * The turns past the watermark that can be summarised now: those before the recent window (the session's latest
   * RECENT_TURNS, which the context shows as they are) and before the first turn accepted and not stored yet, so the
   * watermark never passes a turn still on its way (storing it queues the next summary job).
   */
  private async readyTurns(job: SummariseJob, watermark: number): Promise<StoredTurn[]> {
    const window = this.config.RECENT_TURNS;
    const [pending, recent] = await Promise.all([this.store.pendingSeqs(job.tenant, job.session), this.store.recent(job.tenant, job.session, window)]);
    const limit = Math.min(...pending.filter((seq) => seq > watermark), recent.length === window && window > 0 ? recent[0].seq : Infinity);
    const turns = await this.store.turnsAfter(job.tenant, job.session, watermark, this.config.SUMMARY_MAX_TURNS);
    return turns.filter((t) => t.seq < limit);
  }

  private async fold(previous: SummaryVersion | undefined, turns: StoredTurn[]): Promise<SummaryVersion> {
    const input = {
      previousSummary: previous?.text ?? null,
      turns: turns.map((t) => ({ seq: t.seq, role: t.role, time: new Date(t.timestamp).toISOString(), content: t.content })),
    };
    const reply = await askStructured(this.llm!, this.metrics, { instructions: SUMMARY_INSTRUCTIONS, input, name: 'session_summary', schema: SUMMARY_SCHEMA });
    return {
      text: parseSummary(reply.value),
      fromSeq: previous?.fromSeq ?? turns[0].seq,
      toSeq: turns[turns.length - 1].seq,
      addedFromSeq: turns[0].seq,
      addedTurns: turns.length,
      createdAt: Date.now(),
    };
  }
}
