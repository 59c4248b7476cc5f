import type { MemoryConfig } from '../config/memory-config';
import { ConfigError } from '../errors/config.error';
import type { MemoryStore } from '../store/memory-store';
import { createEmbeddingProvider } from '../embedding/create-embedding-provider';
import type { EmbeddingProvider } from '../embedding/embedding-provider';
import { configuredSpec, describeGeneration, type EmbeddingGeneration, generationOf } from './embedding-generation';
import { type GenerationRecord, type GenerationStore, writeGenerations } from './generation-store';

interface WatchLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * A process's view of the store's embedding generations: read at start (the first process of a store records its
 * configured embedder as the active generation), then every GENERATION_POLL_MS, so every process follows a re-index
 * without a restart. It builds an embedder per generation (credentials from the config), so queries and vectors are
 * always made in the generation they are searched or stored in, whatever EMBEDDING_* says.
 */
export class GenerationWatch {
  readonly configured: EmbeddingGeneration;
  private current!: GenerationRecord;
  private readonly embedders = new Map<string, EmbeddingProvider>();
  private readonly listeners: ((record: GenerationRecord) => void)[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: GenerationStore,
    private readonly memories: MemoryStore,
    private readonly config: MemoryConfig,
    private readonly logger: WatchLogger,
  ) {
    this.configured = generationOf(configuredSpec(config), true);
  }

  async start(): Promise<void> {
    this.current = (await this.store.read()) ?? (await this.adopt());
    const mismatch = this.mismatch();
    if (mismatch) this.logger.warn(mismatch);
    this.logger.log(`embedding generation: ${describeGeneration(this.current.active)}${this.current.state ? `, re-index ${this.current.state}` : ''}`);
    this.timer = setInterval(() => void this.refresh().catch((err: Error) => this.logger.warn(`reading the embedding generations failed: ${err.message}`)), this.config.GENERATION_POLL_MS);
    this.timer.unref();
  }

  /**
   * Records the configured embedder as the store's first generation. A store written before generations existed
   * has vectors already: they must be of this dimension (a different model of the same dimension cannot be told).
   */
  private async adopt(): Promise<GenerationRecord> {
    const stored = await this.memories.storedDim(this.configured.field);
    if (stored !== undefined && stored !== this.configured.dim) {
      throw new ConfigError(
        `the store's vectors are ${stored}-d, but the configured embedder is ${describeGeneration(this.configured)}: start with the embedder that wrote them ` +
          `(e.g. EMBEDDING_DIM=${stored}), which becomes the store's first generation, then change it with \`cli reindex --to ...\``,
      );
    }
    return this.store.adopt(this.configured);
  }

  get record(): GenerationRecord {
    return this.current;
  }

  get active(): EmbeddingGeneration {
    return this.current.active;
  }

  /** The generations a write stores a vector for now. */
  get writes(): EmbeddingGeneration[] {
    return writeGenerations(this.current);
  }

  /** Reads the record now; listeners hear of any change. */
  async refresh(): Promise<GenerationRecord> {
    const next = await this.store.read();
    if (!next) return this.current;
    const changed = signature(next) !== signature(this.current);
    this.current = next;
    if (changed) {
      this.logger.log(`embedding generation: ${describeGeneration(next.active)}${next.target ? `, building ${describeGeneration(next.target)}` : ''}${next.previous ? `, keeping ${describeGeneration(next.previous)} until the grace period ends` : ''}`);
      for (const listener of this.listeners) listener(next);
    }
    return next;
  }

  onChange(listener: (record: GenerationRecord) => void): void {
    this.listeners.push(listener);
  }

  /** The embedder of a generation (one per process and generation). */
  embedder(generation: EmbeddingGeneration): EmbeddingProvider {
    let embedder = this.embedders.get(generation.fingerprint);
    if (!embedder) this.embedders.set(generation.fingerprint, (embedder = createEmbeddingProvider(this.config, generation)));
    return embedder;
  }

  /** The readiness check's line: 'ok (<active>)', or what differs (not a failure: the process follows the active generation). */
  check(): string {
    return this.mismatch() ?? `ok (${describeGeneration(this.active)}${this.current.target ? `, building ${describeGeneration(this.current.target)}` : ''})`;
  }

  /** Why the configured embedder is not the active generation's (this process follows the active one), or undefined. */
  mismatch(): string | undefined {
    const { active } = this.current;
    if (active.fingerprint === this.configured.fingerprint) return undefined;
    return `the configured embedder (EMBEDDING_*: ${describeGeneration(this.configured)}) is not the store's active generation ${describeGeneration(active)}: ` +
      `this process embeds with the active one; set EMBEDDING_* to it, or re-index (cli reindex --to ...)`;
  }

  /** Stops polling (Nest calls it when the app closes). */
  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

const signature = (r: GenerationRecord) => [r.active, r.target, r.previous, r.drop].map((g) => g?.fingerprint ?? '').join(',') + (r.state ?? '');
