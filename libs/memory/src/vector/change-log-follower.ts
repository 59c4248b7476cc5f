import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DimensionMismatchError } from '../errors/dimension-mismatch.error';
import { IndexLagError } from '../errors/index-lag.error';
import { IndexSchemaMismatchError } from '../errors/index-schema-mismatch.error';
import type { MemoryStore } from '../store/memory-store';
import type { ChangeLogEntry, ChangeLogReader, LogPosition } from './change-log-reader';
import type { SearchCore } from './search-core';
import { compareStreamIds } from './stream-id';
import type { IndexLogger } from './vector-index';

export interface FollowerOptions {
  reader: ChangeLogReader;
  store: MemoryStore;
  /** A fresh, empty core; called for the first build and for every rebuild. */
  createCore: () => SearchCore;
  logger: IndexLogger;
  /** Name used in errors and logs. */
  name: string;
  batchSize?: number;
  blockMs?: number;
}

/** HNSW inserts are synchronous (~1-3 ms each at 1536 dims): yield this often so searches are not held up for long. */
const ADDS_PER_TICK = 64;

interface Waiter {
  id: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Keeps a SearchCore equal to the vectors stored in Redis: rebuilds it from a scan, then applies the change log
 * from the position recorded before the scan (so no write is missed; replaying an add is a no-op).
 * A follower that fell behind the trimmed stream rebuilds and swaps the new core in.
 */
export class ChangeLogFollower {
  private current!: SearchCore;
  private position: LogPosition = { id: '0-0', added: 0 };
  private waiters: Waiter[] = [];
  private running?: Promise<void>;
  private closed = false;

  constructor(private readonly opts: FollowerOptions) {}

  get core(): SearchCore {
    return this.current;
  }

  /** The change-log position that the core covers. */
  get applied(): string {
    return this.position.id;
  }

  async start(): Promise<void> {
    try {
      await this.rebuild();
    } catch (err) {
      this.opts.reader.close();
      throw err;
    }
    this.running = this.follow();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.opts.reader.close();
    for (const w of this.waiters) w.reject(new Error(`${this.opts.name} was closed`));
    await this.running;
  }

  /** Resolves once the core covers `id`; throws IndexLagError after `timeoutMs`. */
  async waitFor(id: string | undefined, timeoutMs: number): Promise<void> {
    if (id === undefined || compareStreamIds(this.position.id, id) >= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { id } as Waiter;
    try {
      await new Promise<void>((resolve, reject) => {
        Object.assign(waiter, { resolve, reject });
        this.waiters.push(waiter);
        timer = setTimeout(() => reject(new IndexLagError(id, this.position.id, timeoutMs)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  private async rebuild(): Promise<void> {
    const from = await this.opts.reader.position();
    const core = this.opts.createCore();
    try {
      let added = 0;
      for await (const batch of this.opts.store.scanVectors()) {
        for (const v of batch) {
          core.add(v);
          if (++added % ADDS_PER_TICK === 0) await yieldToEventLoop();
        }
      }
    } catch (err) {
      if (err instanceof DimensionMismatchError) throw new IndexSchemaMismatchError(this.opts.name, [err.message]);
      throw err;
    }
    this.current = core;
    this.advance(from);
    this.opts.logger.log(`${this.opts.name}: built from Redis with ${core.size} vectors, following the change log after ${from.id}`);
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        const read = await this.opts.reader.readAfter(this.position, this.opts.batchSize ?? 1000);
        if (read.gap) {
          this.opts.logger.warn(`${this.opts.name}: change log was trimmed past position ${this.position.id}; rebuilding`);
          await this.rebuild();
        } else if (read.next === this.position) {
          await this.opts.reader.waitAfter(this.position, this.opts.blockMs ?? 5000);
        } else {
          await this.apply(read.entries);
          this.advance(read.next);
        }
      } catch (err) {
        if (this.closed) return;
        this.opts.logger.warn(`${this.opts.name}: following the change log failed, retrying: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Applies entries in order; the adds' vectors are loaded in one pipeline first. */
  private async apply(entries: ChangeLogEntry[]): Promise<void> {
    const addKeys = entries.flatMap((e) => (e.op === 'add' ? [e.key] : []));
    const loaded = new Map((await this.opts.store.loadVectors(addKeys)).map((v) => [v.key, v]));
    for (const [i, e] of entries.entries()) {
      if (i % ADDS_PER_TICK === ADDS_PER_TICK - 1) await yieldToEventLoop();
      if (e.op === 'del') {
        this.current.deleteSession(e.tenant, e.session);
        continue;
      }
      const v = loaded.get(e.key);
      if (!v) continue; // deleted since; its 'del' entry follows
      try {
        this.current.add(v);
      } catch (err) {
        if (!(err instanceof DimensionMismatchError)) throw err;
        this.opts.logger.warn(`${this.opts.name}: skipped ${e.key}: ${err.message}`);
      }
    }
  }

  private advance(to: LogPosition): void {
    this.position = to;
    for (const w of this.waiters) if (compareStreamIds(to.id, w.id) >= 0) w.resolve();
  }
}
