import { ReindexConflictError } from '../errors/reindex-conflict.error';
import type { RedisClient } from '../redis/create-redis';
import type { KeySchema } from '../redis/key-schema';
import { type StoreCommands, withStoreCommands } from '../store/store-commands';
import { describeGeneration, type EmbeddingGeneration } from './embedding-generation';

/**
 * The store's embedding generations as one Redis hash (KeySchema.generation). Idle: `active` only. While a re-index
 * builds: `state` building, `target`, and the progress (`cursor` of the scan, `pass`, `done`, `total`). After the
 * switch: `state` switched, the new generation `active`, the old one `previous` until the grace period ends. A
 * dropped generation stays under `drop` until its vectors are deleted.
 */
export interface GenerationRecord {
  active: EmbeddingGeneration;
  state?: 'building' | 'switched';
  target?: EmbeddingGeneration;
  previous?: EmbeddingGeneration;
  drop?: EmbeddingGeneration;
  dropSince?: number;
  started?: number;
  switched?: number;
  cursor?: string;
  pass?: number;
  passStarted?: number;
  done?: number;
  total?: number;
}

/** The generations a write stores a vector for: the active one, and the other while a re-index runs. */
export const writeGenerations = (r: GenerationRecord): EmbeddingGeneration[] =>
  [r.active, r.target, r.previous].filter((g): g is EmbeddingGeneration => g !== undefined);

const JSON_FIELDS = ['active', 'target', 'previous', 'drop'] as const;
const NUMBER_FIELDS = ['dropSince', 'started', 'switched', 'pass', 'passStarted', 'done', 'total'] as const;

/** The repository of the generation record; every change is one script on its one key. */
export class GenerationStore {
  private readonly redis: RedisClient & StoreCommands;

  constructor(
    redis: RedisClient,
    private readonly keys: KeySchema,
  ) {
    this.redis = withStoreCommands(redis);
  }

  async read(): Promise<GenerationRecord | undefined> {
    const raw = await this.redis.hgetall(this.keys.generation);
    if (!raw.active) return undefined;
    const record: Record<string, unknown> = {};
    for (const f of JSON_FIELDS) if (raw[f]) record[f] = JSON.parse(raw[f]) as EmbeddingGeneration;
    for (const f of NUMBER_FIELDS) if (raw[f] !== undefined) record[f] = Number(raw[f]);
    if (raw.state) record.state = raw.state;
    if (raw.cursor !== undefined) record.cursor = raw.cursor;
    return record as unknown as GenerationRecord;
  }

  /** Records `generation` as active when the store has none yet (its first process), and returns the record. */
  async adopt(generation: EmbeddingGeneration): Promise<GenerationRecord> {
    await this.redis.hsetnx(this.keys.generation, 'active', JSON.stringify(generation));
    return (await this.read())!;
  }

  /** Starts building `target`; ReindexConflictError when a re-index runs, the store is on it already, or a drop is pending. */
  async begin(target: EmbeddingGeneration, total: number): Promise<void> {
    const [code, state] = await this.redis.memBeginReindex(this.keys.generation, JSON.stringify(target), target.fingerprint, Date.now(), total);
    if (code === 1) return;
    const why: Record<string, string> = {
      '0': `a re-index is already ${String(state)}`,
      '-1': `the store is on ${describeGeneration(target)} already`,
      '-2': 'the vectors of the last dropped generation are still being deleted; try again in a few seconds',
      '-3': 'the store has no active generation yet (no embedder has started)',
    };
    throw new ReindexConflictError(why[String(code)]);
  }

  /** See lua/reindex-progress.lua: 0 stale, 1 recorded, 2 a new pass began, 3 switched. */
  progress(target: EmbeddingGeneration, from: string, to: string, reembedded: number, missing: number, passEnded: boolean, settleMs: number): Promise<number> {
    return this.redis.memReindexProgress(this.keys.generation, target.fingerprint, from, to, reembedded, missing, passEnded ? 1 : 0, settleMs, Date.now());
  }

  /** Aborts (rolls back) or finishes a re-index; the dropped generation, or undefined when there was none to end. */
  async end(how: 'abort' | 'finish'): Promise<EmbeddingGeneration | undefined> {
    const dropped = await this.redis.memEndReindex(this.keys.generation, how, Date.now());
    return dropped ? (JSON.parse(dropped) as EmbeddingGeneration) : undefined;
  }

  /** Forgets the pending drop once its vectors are deleted. */
  async dropped(generation: EmbeddingGeneration): Promise<void> {
    const current = await this.read();
    if (current?.drop?.fingerprint === generation.fingerprint) await this.redis.hdel(this.keys.generation, 'drop', 'dropSince');
  }

  /** Takes or renews the driver's lease; false while another process holds it. */
  async lease(owner: string, ms: number): Promise<boolean> {
    if ((await this.redis.set(this.keys.generationLock, owner, 'PX', ms, 'NX')) === 'OK') return true;
    return (await this.redis.memRenewLease(this.keys.generationLock, owner, ms)) === 1;
  }
}
