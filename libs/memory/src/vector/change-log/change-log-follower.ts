import { setTimeout as sleep } from 'node:timers/promises';
import { DimensionMismatchError } from '../../errors/dimension-mismatch.error';
import { IndexLagError } from '../../errors/index-lag.error';
import { IndexSchemaMismatchError } from '../../errors/index-schema-mismatch.error';
import type { ReadStep } from '../../redis/scan-keys';
import { retryStartup } from '../../redis/retry-startup';
import type { MemoryStore } from '../../store/memory-store';
import type { ChangeLogEntry, ChangeLogReader, LogPosition } from './change-log-reader';
import type { CoreSnapshots } from '../snapshots/core-snapshots';
import type { SearchCore } from '../in-process/search-core';
import { LEASE_TTL_MS, type RebuildLease } from './rebuild-lease';
import { compareStreamIds } from './stream-id';
import { nextSlice } from '../in-process/time-slicer';
import { stemInSlices } from '../in-process/text-index';
import type { IndexLogger, RebuildReason } from '../vector-index';

/** How often, on average, a replica waiting to rebuild asks for the lease (jittered, so waiters do not ask together). */
const LEASE_POLL_MS = 1000;

export interface FollowerOptions {
  /** One reader per change-log partition, in partition order. */
  readers: ChangeLogReader[];
  store: MemoryStore;
  /** The hash field of the embedding generation this core holds (absent: `embedding`). */
  field?: string;
  /** A fresh, empty core; called for the first build and for every rebuild. */
  createCore: () => SearchCore;
  logger: IndexLogger;
  /** Name used in errors and logs. */
  name: string;
  batchSize?: number;
  blockMs?: number;
  onRebuild?: (reason: RebuildReason) => void;
  /** Saves the core every so often, and loads it at start instead of rebuilding from Redis. */
  snapshots?: CoreSnapshots;
  /** Held while rebuilding after start-up, so replicas rebuild one at a time. */
  lease?: RebuildLease;
}

interface Waiter {
  required: Record<number, string>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Keeps a SearchCore equal to the vectors stored in Redis: rebuilds it from a scan, then applies every partition of
 * the change log from the positions recorded before the scan (so no write is missed; replaying an add is a no-op).
 * One loop applies; one watcher per partition blocks on its stream and wakes the loop. A partition that was trimmed
 * past the follower's position, or that went back in time (Redis lost writes), makes it rebuild and swap the new core in;
 * the old core is not trusted meanwhile (`rebuilding`: searches are answered elsewhere, or wait for the new core).
 * Every Redis read of a rebuild is retried while Redis cannot serve it, so one slow reply does not start it over.
 */
export class ChangeLogFollower {
  private current!: SearchCore;
  private positions: LogPosition[] = [];
  private waiters: Waiter[] = [];
  private roundEnded: (() => void)[] = [];
  private ring: () => void = () => undefined;
  private running?: Promise<unknown>;
  private closed = false;
  /** The core changed since the last snapshot. */
  private dirty = false;
  private savedAt = -Infinity;
  /** A gap was seen and the rebuild that follows it has not swapped its core in yet. */
  private stale = false;

  constructor(private readonly opts: FollowerOptions) {}

  get core(): SearchCore {
    return this.current;
  }

  /** The core missed part of the change log and a rebuild (or the wait for the lease) is under way. */
  get rebuilding(): boolean {
    return this.stale;
  }

  async start(): Promise<void> {
    try {
      if (!(await this.restore())) await this.rebuild();
    } catch (err) {
      this.opts.readers.forEach((r) => r.close());
      throw err;
    }
    this.running = Promise.all([this.applyLoop(), ...this.opts.readers.map((_, p) => this.watch(p))]);
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.opts.readers.forEach((r) => r.close());
    this.ring();
    this.endRound();
    for (const w of this.waiters) w.reject(new Error(`${this.opts.name} was closed`));
    await this.running;
    // A restart then loads what this process had applied.
    if (this.running && this.dirty && this.opts.snapshots) await this.save();
    await this.current?.close();
  }

  /**
   * Resolves once the core covers every given position (partition -> stream id), and is not being rebuilt; throws
   * IndexLagError after `timeoutMs`.
   */
  async waitFor(required: Record<number, string> = {}, timeoutMs: number): Promise<void> {
    if (!this.stale && this.covers(required)) return;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { required } as Waiter;
    try {
      await new Promise<void>((resolve, reject) => {
        Object.assign(waiter, { resolve, reject });
        this.waiters.push(waiter);
        timer = setTimeout(() => reject(new IndexLagError(JSON.stringify(required), JSON.stringify(this.positions.map((p) => p.id)), timeoutMs)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  /** Change-log entries written and not applied yet, over every partition. */
  async backlog(): Promise<number> {
    const written = await Promise.all(this.opts.readers.map((r) => r.position()));
    return written.reduce((sum, at, p) => sum + Math.max(0, at.added - (this.positions[p]?.added ?? 0)), 0);
  }

  /** Partitions this follower does not read (a changed CHANGELOG_PARTITIONS) cannot be waited for, so they count as covered. */
  private covers(required: Record<number, string>): boolean {
    return Object.entries(required).every(([p, id]) => {
      const at = this.positions[Number(p)];
      return at === undefined || compareStreamIds(at.id, id) >= 0;
    });
  }

  /**
   * Loads the newest snapshot and replays the change log from the positions it covers up to where the log was at
   * the start. False, after saying why, when there is no snapshot to use: none, unreadable, built for another
   * dimension or M or partition count, or older than what the log still holds (trimmed) or newer (rolled back).
   */
  private async restore(): Promise<boolean> {
    const { snapshots, readers, logger, name } = this.opts;
    if (!snapshots) return false;
    const started = performance.now();
    const fallBack = (why: string) => {
      logger.warn(`${name}: ${why}; rebuilding from Redis`);
      return false;
    };
    const target = await Promise.all(readers.map((r) => r.position()));
    const loaded = await snapshots.load();
    if ('unusable' in loaded) return fallBack(loaded.unusable);
    if (loaded.positions.length !== readers.length) {
      await loaded.core.close();
      return fallBack(`the snapshot covers ${loaded.positions.length} change-log partitions, not ${readers.length}`);
    }
    this.current = loaded.core;
    this.positions = loaded.positions;
    let replayed = 0;
    // At least one read, which checks every partition for a trim past the snapshot or a rollback behind it.
    do {
      const reads = await Promise.all(readers.map((r, p) => r.readAfter(this.positions[p], this.opts.batchSize ?? 1000)));
      const broken = reads.findIndex((r) => r.gap);
      if (broken >= 0) return fallBack(`change-log partition ${broken} (${reads[broken].gap}) no longer holds what follows the snapshot's position ${this.positions[broken].id}`);
      const entries = reads.flatMap((r) => r.entries);
      if (entries.length === 0 && reads.every((r, p) => r.next === this.positions[p])) break;
      await this.apply(entries);
      replayed += entries.length;
      this.positions = reads.map((r) => r.next);
    } while (this.positions.some((p, i) => p.added < target[i].added));
    this.advance(this.positions);
    logger.log(`${name}: loaded ${snapshots.description} with ${this.current.size} vectors after replaying ${replayed} change-log entries in ${Math.round(performance.now() - started)} ms`);
    return true;
  }

  /** How long an idle loop sleeps: until a change or the next snapshot that is due. */
  private idleMs(): number {
    const blockMs = this.opts.blockMs ?? 5000;
    const { snapshots } = this.opts;
    return snapshots && this.dirty ? Math.min(blockMs, Math.max(0, this.savedAt + snapshots.intervalMs - performance.now())) : blockMs;
  }

  /**
   * Saves the core if it changed and the interval has passed since the last save, once it is settled (a save links
   * every vector first, which would hold up the graph thread's searches for a whole backlog).
   */
  private async saveWhenDue(): Promise<void> {
    const { snapshots } = this.opts;
    if (snapshots && this.dirty && this.current.settled && performance.now() - this.savedAt >= snapshots.intervalMs) await this.save();
  }

  /** A failed save is reported and tried again after the interval; the index goes on following the log meanwhile. */
  private async save(): Promise<void> {
    const started = performance.now();
    this.dirty = false;
    try {
      await this.opts.snapshots!.save(this.current, this.positions);
      this.opts.logger.log(`${this.opts.name}: saved a snapshot of ${this.current.size} vectors to ${this.opts.snapshots!.description} in ${Math.round(performance.now() - started)} ms`);
    } catch (err) {
      this.dirty = true;
      this.opts.logger.warn(`${this.opts.name}: saving a snapshot to ${this.opts.snapshots!.description} failed: ${(err as Error).message}`);
    }
    this.savedAt = performance.now();
  }

  /** Rebuilds once this replica holds the lease, if there is one; a replica closed while waiting gives up. */
  private async rebuildLeased(): Promise<void> {
    const { lease, logger, name } = this.opts;
    if (!lease) return this.rebuild();
    const run = this.retrying('taking the rebuild lease');
    let waiting = false;
    while (!(await run(() => lease.acquire()))) {
      if (this.closed) return;
      if (!waiting) logger.log(`${name}: another replica is rebuilding; waiting for the lease`);
      waiting = true;
      await sleep(LEASE_POLL_MS * (0.5 + Math.random()));
    }
    const renewal = setInterval(() => void this.renew(lease), LEASE_TTL_MS / 3);
    try {
      await this.rebuild();
    } finally {
      clearInterval(renewal);
      await lease.release().catch((err: Error) => logger.warn(`${name}: releasing the rebuild lease failed (it expires by itself): ${err.message}`));
    }
  }

  /** A renewal that failed, or found the lease gone, is logged: another replica may then rebuild at the same time. */
  private async renew(lease: RebuildLease): Promise<void> {
    const { logger, name } = this.opts;
    try {
      if (!(await lease.renew())) logger.warn(`${name}: the rebuild lease lapsed; another replica may be rebuilding too`);
    } catch (err) {
      logger.warn(`${name}: renewing the rebuild lease failed: ${(err as Error).message}`);
    }
  }

  /** Runs a Redis read again while Redis cannot serve it (a timed-out command), with backoff (see retryStartup). */
  private retrying(what: string): ReadStep {
    return (step) => retryStartup(`${this.opts.name}: ${what}`, step, this.opts.logger);
  }

  private async rebuild(): Promise<void> {
    this.opts.logger.log(`${this.opts.name}: rebuilding from Redis`);
    const run = this.retrying('a read of the rebuild');
    const from = await run(() => Promise.all(this.opts.readers.map((r) => r.position())));
    const core = this.opts.createCore();
    try {
      for await (const batch of this.opts.store.scanVectors(500, run, this.opts.field)) {
        if (this.closed) return await core.close();
        for (const v of batch) {
          await stemInSlices(v.content, v.context);
          core.add(v);
          await nextSlice();
        }
      }
    } catch (err) {
      await core.close();
      if (err instanceof DimensionMismatchError) throw new IndexSchemaMismatchError(this.opts.name, [err.message]);
      throw err;
    }
    const replaced = this.current;
    this.current = core;
    await replaced?.close();
    this.dirty = true;
    this.stale = false;
    this.advance(from);
    this.opts.logger.log(`${this.opts.name}: built from Redis with ${core.size} vectors, following ${from.length} change-log partitions`);
  }

  private async applyLoop(): Promise<void> {
    while (!this.closed) {
      try {
        await this.saveWhenDue();
        const reads = await Promise.all(this.opts.readers.map((r, p) => r.readAfter(this.positions[p], this.opts.batchSize ?? 1000)));
        const broken = reads.findIndex((r) => r.gap);
        if (broken >= 0 && !this.stale) {
          const reason = reads[broken].gap!;
          this.stale = true;
          this.opts.logger.warn(`${this.opts.name}: change-log partition ${broken} (${reason}) no longer holds what follows position ${this.positions[broken].id}; rebuilding`);
          this.opts.onRebuild?.(reason);
        }
        // Until the new core is in (a failed rebuild is tried again, and counted once).
        if (this.stale) {
          await this.rebuildLeased();
        } else if (reads.every((r, p) => r.next === this.positions[p])) {
          this.endRound();
          if (this.closed) return;
          // Nothing new: wait for news, the next snapshot that is due, or (for that snapshot) the indexing to settle.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.idleMs());
            this.ring = () => {
              clearTimeout(timer);
              resolve();
            };
            if (!this.current.settled) void this.current.settle().then(this.ring);
          });
          continue;
        } else {
          await this.apply(reads.flatMap((r) => r.entries));
          // Searchable now; the core goes on indexing them beside the loop (the HNSW graph thread).
          this.advance(reads.map((r) => r.next));
        }
        this.endRound();
      } catch (err) {
        if (this.closed) return;
        this.opts.logger.warn(`${this.opts.name}: following the change log failed, retrying: ${(err as Error).message}`);
        await sleep(500);
      }
    }
  }

  /** Blocks on one partition and wakes the apply loop when it has something after the applied position. */
  private async watch(partition: number): Promise<void> {
    const reader = this.opts.readers[partition];
    while (!this.closed) {
      try {
        if (!(await reader.waitAfter(this.positions[partition], this.opts.blockMs ?? 5000)) || this.closed) continue;
        const ended = new Promise<void>((resolve) => this.roundEnded.push(resolve));
        this.ring();
        await ended;
      } catch (err) {
        if (this.closed) return;
        this.opts.logger.warn(`${this.opts.name}: watching change-log partition ${partition} failed, retrying: ${(err as Error).message}`);
        await sleep(500);
      }
    }
  }

  private endRound(): void {
    const ended = this.roundEnded;
    this.roundEnded = [];
    ended.forEach((resolve) => resolve());
  }

  /** Applies entries in order; the adds' vectors are loaded together first. */
  private async apply(entries: ChangeLogEntry[]): Promise<void> {
    if (entries.length > 0) this.dirty = true;
    const addKeys = entries.flatMap((e) => (e.op === 'add' ? [e.key] : []));
    const loaded = new Map((await this.opts.store.loadVectors(addKeys, this.opts.field)).map((v) => [v.key, v]));
    for (const e of entries) {
      await nextSlice();
      if (e.op === 'del') {
        this.current.deleteSession(e.tenant, e.session);
        continue;
      }
      if (e.op === 'rm') {
        this.current.remove(e.key);
        continue;
      }
      const v = loaded.get(e.key);
      if (!v) continue; // deleted since; its 'del' or 'rm' entry follows
      await stemInSlices(v.content, v.context);
      try {
        this.current.add(v);
      } catch (err) {
        if (!(err instanceof DimensionMismatchError)) throw err;
        this.opts.logger.warn(`${this.opts.name}: skipped ${e.key}: ${err.message}`);
      }
    }
  }

  private advance(to: LogPosition[]): void {
    this.positions = to;
    if (this.stale) return;
    for (const w of this.waiters) if (this.covers(w.required)) w.resolve();
  }
}
