import { ChangeLogFollower } from '../change-log/change-log-follower';
import { ChangeLogReader } from '../change-log/change-log-reader';
import { RebuildLease } from '../change-log/rebuild-lease';
import { checkQuery } from '../check-query';
import { ExactIndex } from './exact-index';
import { HnswIndex, type HnswOptions } from './hnsw-index';
import { HnswSnapshotStore } from '../snapshots/hnsw-snapshot-store';
import { ScopeScan } from './scope-scan';
import type { SearchCore } from './search-core';
import { indexedGeneration, type VectorHit, type VectorIndex, type VectorIndexOptions, type VectorQuery } from '../vector-index';
import { TURN_FIELDS } from '../../store/turn';
import { VectorMirror } from './vector-mirror';

/** The hnsw and exact backends: an in-process core rebuilt from Redis and kept current by the change log. */
export class MirroredVectorIndex implements VectorIndex {
  private readonly follower: ChangeLogFollower;
  private readonly dim: number;
  private readonly scan: ScopeScan;

  constructor(
    readonly backend: 'hnsw' | 'exact',
    private readonly opts: VectorIndexOptions,
  ) {
    const { config, redis, store } = opts;
    const logger = opts.logger ?? console;
    const generation = indexedGeneration(opts);
    const first = generation.field === TURN_FIELDS.embedding;
    this.dim = generation.dim;
    const hnsw: HnswOptions = {
      dim: generation.dim,
      m: config.HNSW_M,
      efConstruction: config.HNSW_EF_CONSTRUCTION,
      efRuntime: config.HNSW_EF_RUNTIME,
      exactThreshold: config.HNSW_EXACT_THRESHOLD,
      textWeight: config.HYBRID_TEXT_WEIGHT,
      logger,
      onFallback: opts.onFallback,
    };
    const createCore = (): SearchCore =>
      backend === 'exact' ? new ExactIndex(new VectorMirror(generation.dim), config.HYBRID_TEXT_WEIGHT) : new HnswIndex(hnsw);
    // The exact backend rebuilds fast (no graph to insert into): only hnsw saves snapshots.
    const snapshots = backend === 'hnsw' && config.HNSW_SNAPSHOT_DIR
      // One snapshot per generation: the first keeps the name it always had.
      ? new HnswSnapshotStore({ dir: config.HNSW_SNAPSHOT_DIR, prefix: first ? store.keys.prefix : `${store.keys.prefix}-${generation.id}`, hnsw, intervalMs: config.HNSW_SNAPSHOT_INTERVAL_MS })
      : undefined;
    this.follower = new ChangeLogFollower({
      readers: store.keys.allPartitions.map((p) => new ChangeLogReader(redis, store.keys.changelog(p))),
      store,
      field: generation.field,
      createCore,
      logger,
      name: `${backend} index (${store.keys.prefix}${first ? '' : `, generation ${generation.id}`})`,
      onRebuild: opts.onRebuild,
      snapshots,
      lease: new RebuildLease(redis, store.keys.rebuildLease),
    });
    this.scan = new ScopeScan(store, generation, config.HYBRID_TEXT_WEIGHT, config.REBUILD_SCAN_MAX_VECTORS);
  }

  init(): Promise<void> {
    return this.follower.start();
  }

  async search(q: VectorQuery): Promise<VectorHit[]> {
    if (!checkQuery(q, this.dim)) return [];
    // The core is not trusted while it rebuilds: a scope small enough is answered from Redis, a larger one waits.
    if (this.follower.rebuilding) {
      const hits = await this.scan.search(q);
      if (hits) {
        this.opts.onRebuildScan?.();
        return hits;
      }
    }
    await this.follower.waitFor(q.minLogIds, this.opts.config.JOB_TIMEOUT_MS);
    const core = this.follower.core;
    return core.mirror.withBriefs(await core.search(q));
  }

  async size(): Promise<number> {
    return this.follower.core.size;
  }

  lag(): Promise<number> {
    return this.follower.backlog();
  }

  close(): Promise<void> {
    return this.follower.stop();
  }

  retire(): Promise<void> {
    return this.close();
  }
}
