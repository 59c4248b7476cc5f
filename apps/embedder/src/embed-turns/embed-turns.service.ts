import { Injectable } from '@nestjs/common';
import { countTokensSliced, EmbedTurnJob, EmbedTurnResult, GenerationEmbedder, MemoryConfig, MemoryStore, Metrics, ProviderError } from '@app/memory';
import { MicroBatcher } from '@app/memory/queues/micro-batcher';
import { eventDate } from '@app/memory/time/text-dates';
import { speakerOf } from '@app/memory/store/turn-speaker';
import { ExtractFeed } from './extract-feed';

/**
 * Embeds turns in micro-batches (one provider call per batch and embedding generation) and stores them idempotently;
 * while a re-index runs, in both generations.
 */
@Injectable()
export class EmbedTurnsService {
  private readonly batcher: MicroBatcher<EmbedTurnJob, EmbedTurnResult>;

  constructor(
    private readonly embedder: GenerationEmbedder,
    private readonly store: MemoryStore,
    private readonly metrics: Metrics,
    private readonly extractFeed: ExtractFeed,
    config: MemoryConfig,
  ) {
    this.batcher = new MicroBatcher((jobs) => this.embedAndStore(jobs), {
      maxSize: config.EMBED_BATCH_SIZE,
      maxWaitMs: config.EMBED_BATCH_WAIT_MS,
      // A provider refuses the whole request for one bad input, with a 400 or, for some compatible servers, a 500
      // (after the SDK's retries): only that input's job may fail and spend an attempt, not its neighbours'. Other
      // failures (rate limits, overload, timeouts) are not one input's fault, and splitting would only add calls.
      isolate: (err) => err instanceof ProviderError && (err.kind === 'bad_request' || err.status === 500),
    });
  }

  embedTurn(job: EmbedTurnJob): Promise<EmbedTurnResult> {
    return this.batcher.submit(job);
  }

  private async embedAndStore(jobs: EmbedTurnJob[]): Promise<EmbedTurnResult[]> {
    this.metrics.observeEmbeddingBatch(jobs.length);
    const { generations, vectors } = await this.embedder.forWrite(jobs.map((j) => j.content));
    // Contextual indexing: the previous turn's words are indexed with the turn's; dates it names, and its speaker label, are read now.
    const missing = jobs.filter((j) => j.context === undefined);
    const read = new Map((await this.store.previousContents(missing, jobs)).map((context, i) => [missing[i], context]));
    const tokenCounts = await countTokensSliced(jobs.map((j) => j.content));
    const written = await this.store.write(
      jobs.map((j, i) => ({ ...j, tokenCount: tokenCounts[i], embedding: vectors[i], context: j.context ?? read.get(j), eventAt: eventDate(j.content, j.timestamp), speaker: speakerOf(j.content) })),
    );
    await this.embedder.catchUp(this.store, generations.map((g) => g.field), written.flatMap((w, i) => (w.outcome === 'dropped' ? [] : [{ key: w.key, content: jobs[i].content }])));
    // A replay ('existing') feeds again: the job it queued may have been lost with a crash, and the watermark makes it harmless.
    this.extractFeed.stored(jobs.filter((_, i) => written[i].outcome !== 'dropped'));
    return written.map(({ seq, outcome }) => ({ seq, outcome }));
  }
}
