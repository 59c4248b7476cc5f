import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LogPosition } from './change-log-reader';
import type { CoreSnapshots, LoadedSnapshot } from './core-snapshots';
import { HnswIndex, type HnswOptions } from './hnsw-index';
import type { SearchCore } from './search-core';
import type { MirrorSnapshot } from './vector-mirror';

const VERSION = 1;

/** What a snapshot's metadata file holds: the graph file it goes with, and what it was built with and covers. */
interface SnapshotMeta {
  version: number;
  prefix: string;
  dim: number;
  m: number;
  /** Per change-log partition, the position the snapshot covers. */
  positions: LogPosition[];
  graphFile: string;
  graphBytes: number;
  mirror: MirrorSnapshot;
}

export interface HnswSnapshotOptions {
  dir: string;
  /** The key prefix: one snapshot per store, so several stores can share a directory. */
  prefix: string;
  hnsw: HnswOptions;
  intervalMs: number;
}

/**
 * Snapshots of an HnswIndex in a directory: the graph in hnswlib's format (`<prefix>-hnsw-<id>.graph`) and a JSON
 * file naming it (`<prefix>-hnsw.json`: the mirror's entries and full-text index, the dimension, M and the change-log
 * positions covered). The JSON is renamed into place after the graph is written, so it always names a complete graph;
 * each process deletes the graph files it wrote before, never another replica's.
 */
export class HnswSnapshotStore implements CoreSnapshots {
  readonly intervalMs: number;
  private readonly metaFile: string;
  private written: string[] = [];

  constructor(private readonly opts: HnswSnapshotOptions) {
    this.intervalMs = opts.intervalMs;
    this.metaFile = join(opts.dir, `${opts.prefix}-hnsw.json`);
  }

  get description(): string {
    return this.metaFile;
  }

  async save(core: SearchCore, positions: LogPosition[]): Promise<void> {
    if (!(core instanceof HnswIndex)) return;
    await mkdir(this.opts.dir, { recursive: true });
    const id = `${Date.now()}-${randomUUID().slice(0, 8)}`;
    const graphFile = join(this.opts.dir, `${this.opts.prefix}-hnsw-${id}.graph`);
    // Taken before the await: nothing changes the core while the follower saves it.
    const mirror = core.mirror.snapshot();
    await core.writeGraph(graphFile);
    const meta: SnapshotMeta = {
      version: VERSION, prefix: this.opts.prefix, dim: this.opts.hnsw.dim, m: this.opts.hnsw.m, positions,
      graphFile: basename(graphFile), graphBytes: (await stat(graphFile)).size, mirror,
    };
    const tmp = `${this.metaFile}.${id}.tmp`;
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, this.metaFile);
    await Promise.all(this.written.map((f) => rm(f, { force: true })));
    this.written = [graphFile];
  }

  async load(): Promise<LoadedSnapshot> {
    let text: string;
    try {
      text = await readFile(this.metaFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { unusable: `no snapshot at ${this.metaFile}` };
      throw err;
    }
    let meta: SnapshotMeta;
    try {
      meta = JSON.parse(text) as SnapshotMeta;
    } catch (err) {
      return { unusable: `snapshot ${this.metaFile} is corrupt (${(err as Error).message})` };
    }
    const { dim, m } = this.opts.hnsw;
    if (meta.version !== VERSION || meta.prefix !== this.opts.prefix) return { unusable: `snapshot ${this.metaFile} is of version ${meta.version} for prefix ${meta.prefix}` };
    if (meta.dim !== dim || meta.m !== m) return { unusable: `snapshot ${this.metaFile} has dimension ${meta.dim} and M ${meta.m}, the index wants ${dim} and ${m}` };
    const graphFile = join(this.opts.dir, meta.graphFile);
    try {
      const bytes = (await stat(graphFile)).size;
      if (bytes !== meta.graphBytes) return { unusable: `snapshot graph ${graphFile} is corrupt (${bytes} bytes, ${meta.graphBytes} written)` };
      return { core: await HnswIndex.load(this.opts.hnsw, graphFile, meta.mirror), positions: meta.positions };
    } catch (err) {
      return { unusable: `snapshot graph ${graphFile} is missing or corrupt (${(err as Error).message})` };
    }
  }
}
