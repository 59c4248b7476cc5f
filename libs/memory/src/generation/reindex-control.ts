import type { MemoryConfig } from '../config/memory-config';
import { createEmbeddingProvider } from '../embedding/create-embedding-provider';
import { InvalidInputError } from '../errors/invalid-input.error';
import { ReindexConflictError } from '../errors/reindex-conflict.error';
import type { MemoryStore } from '../store/memory-store';
import { type EmbeddingGeneration, generationOf, type GenerationSpec } from './embedding-generation';
import type { GenerationRecord, GenerationStore } from './generation-store';

/** A re-index as the CLI and GET /v1/admin/reindex show it. */
export interface ReindexStatus {
  /** idle: one generation; building: the target is being filled; switched: searches use the new one, the old is kept for the grace period. */
  state: 'idle' | 'building' | 'switched';
  active: EmbeddingGeneration;
  target?: EmbeddingGeneration;
  previous?: EmbeddingGeneration;
  /** A dropped generation whose vectors are being deleted. */
  dropping?: EmbeddingGeneration;
  /** Turns and memories re-embedded so far (idle: by the last re-index, as total, startedAt and switchedAt). */
  reembedded: number;
  /** The hashes counted when it began (an estimate: writes meanwhile are written to both generations). */
  total: number;
  remaining: number;
  /** Re-embedded per second since it began. */
  rate: number;
  /** Scan passes (the last one finds nothing left, then the switch). */
  pass?: number;
  startedAt?: number;
  switchedAt?: number;
}

export function reindexStatus(r: GenerationRecord, now = Date.now()): ReindexStatus {
  const reembedded = r.done ?? 0;
  const total = r.total ?? 0;
  const seconds = r.started ? ((r.state === 'building' ? now : (r.switched ?? now)) - r.started) / 1000 : 0;
  return {
    state: r.state ?? 'idle',
    active: r.active,
    ...(r.target ? { target: r.target } : {}),
    ...(r.previous ? { previous: r.previous } : {}),
    ...(r.drop ? { dropping: r.drop } : {}),
    reembedded,
    total,
    remaining: r.state === 'building' ? Math.max(0, total - reembedded) : 0,
    rate: seconds > 0 ? Math.round((reembedded / seconds) * 10) / 10 : 0,
    ...(r.pass ? { pass: r.pass } : {}),
    ...(r.started ? { startedAt: r.started } : {}),
    ...(r.switched ? { switchedAt: r.switched } : {}),
  };
}

/** Starts, reads and aborts re-indexes; the embedders do the work (see apps/embedder/src/reindex). */
export class ReindexControl {
  constructor(
    private readonly generations: GenerationStore,
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
  ) {}

  async status(): Promise<ReindexStatus> {
    const record = await this.generations.read();
    if (!record) throw new ReindexConflictError('the store has no active generation yet (no service has started on it)');
    return reindexStatus(record);
  }

  /**
   * Starts building `spec`'s generation. Its embedder is tried first (one probe text), so a wrong dimension, model or
   * endpoint is refused now, not after the jobs failed.
   */
  async start(spec: GenerationSpec): Promise<ReindexStatus> {
    const target = generationOf(spec);
    try {
      await createEmbeddingProvider(this.config, spec).embed(['re-index probe']);
    } catch (err) {
      throw new InvalidInputError(`the embedder of ${spec.provider}/${spec.model}/${spec.dim} does not work here: ${(err as Error).message}`);
    }
    await this.generations.begin(target, await this.store.countHashes());
    return this.status();
  }

  /** Rolls back: before the switch the target is dropped, after it the previous generation is active again. */
  async abort(): Promise<ReindexStatus> {
    if (!(await this.generations.end('abort'))) throw new ReindexConflictError('no re-index runs: nothing to abort');
    return this.status();
  }
}
