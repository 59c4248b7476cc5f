import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogPosition } from '../change-log/change-log-reader';
import type { CoreSnapshots, LoadedSnapshot } from './core-snapshots';
import { HnswIndex, type HnswOptions } from '../in-process/hnsw-index';
import type { SearchCore } from '../in-process/search-core';
import { nextSlice } from '../in-process/time-slicer';
import type { MirrorSnapshot } from '../in-process/vector-mirror';

// 2: the text index has a context field (contextual indexing); 3: the pointer holds the files' digests; 4: the
// mirror's rows hold each turn's seq, event date and speaker (the re-rank reads them there). An older snapshot is rebuilt from Redis.
const VERSION = 4;

type SnapshotFiles = { graph: string; mirror: string; units: string };

/** The pointer file: which snapshot is the newest, what it was built with, and the change-log positions it covers. */
interface SnapshotPointer {
  version: number;
  prefix: string;
  dim: number;
  m: number;
  /** Per change-log partition, the position the snapshot covers. */
  positions: LogPosition[];
  id: string;
  /** SHA-256 of each file, hex: corruption that keeps a file's size (a flipped block) must not be loaded. */
  sha256: SnapshotFiles;
}

export interface HnswSnapshotOptions {
  dir: string;
  /** The key prefix: one snapshot per store, so several stores can share a directory. */
  prefix: string;
  hnsw: HnswOptions;
  intervalMs: number;
}

/**
 * Snapshots of an HnswIndex in a directory: the graph in hnswlib's format (`<prefix>-hnsw-<id>.graph`), the mirror's
 * entries and full-text index (`<prefix>-hnsw-<id>.mirror.json`), and a small pointer naming the newest
 * (`<prefix>-hnsw.json`: the id, dimension, M, the change-log positions covered and each file's SHA-256). The
 * pointer is renamed into place after the files are written, so it always names a complete snapshot; the one it
 * named before is deleted. A file whose digest differs is never used: a corrupt graph can make a search loop forever.
 */
export class HnswSnapshotStore implements CoreSnapshots {
  readonly intervalMs: number;
  readonly description: string;
  private readonly pointerFile: string;

  constructor(private readonly opts: HnswSnapshotOptions) {
    this.intervalMs = opts.intervalMs;
    this.pointerFile = join(opts.dir, `${opts.prefix}-hnsw.json`);
    this.description = this.pointerFile;
  }

  private files(id: string): SnapshotFiles {
    const base = join(this.opts.dir, `${this.opts.prefix}-hnsw-${id}`);
    return { graph: `${base}.graph`, mirror: `${base}.mirror.json`, units: `${base}.units` };
  }

  async save(core: SearchCore, positions: LogPosition[]): Promise<void> {
    if (!(core instanceof HnswIndex)) return;
    await mkdir(this.opts.dir, { recursive: true });
    const id = `${Date.now()}-${randomUUID().slice(0, 8)}`;
    const files = this.files(id);
    // Nothing changes the core while the follower saves it; the graph is written on a worker thread meanwhile.
    const graphWritten = core.writeGraph(files.graph);
    await writePieces(files.mirror, core.mirror.snapshotJson());
    // The unit vectors again, flat: reading them back from the graph (getPoint, a JS array each) is far slower.
    await writePieces(files.units, core.mirror.unitBytes());
    await graphWritten;
    const pointer: SnapshotPointer = {
      version: VERSION, prefix: this.opts.prefix, dim: this.opts.hnsw.dim, m: this.opts.hnsw.m, positions, id, sha256: await digests(files),
    };
    const before = await this.pointer().catch(() => undefined);
    const tmp = `${this.pointerFile}.${id}.tmp`;
    await writeFile(tmp, JSON.stringify(pointer));
    await rename(tmp, this.pointerFile);
    if (before && before.id !== id) await Promise.all(Object.values(this.files(before.id)).map((f) => rm(f, { force: true })));
  }

  async load(): Promise<LoadedSnapshot> {
    let pointer: SnapshotPointer;
    try {
      pointer = await this.pointer();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { unusable: `no snapshot at ${this.pointerFile}` };
      return { unusable: `snapshot ${this.pointerFile} is corrupt (${(err as Error).message})` };
    }
    const { dim, m } = this.opts.hnsw;
    if (pointer.version !== VERSION || pointer.prefix !== this.opts.prefix) return { unusable: `snapshot ${this.pointerFile} is of version ${pointer.version} for prefix ${pointer.prefix}` };
    if (pointer.dim !== dim || pointer.m !== m) return { unusable: `snapshot ${this.pointerFile} has dimension ${pointer.dim} and M ${pointer.m}, the index wants ${dim} and ${m}` };
    const files = this.files(pointer.id);
    try {
      const found = await digests(files);
      const changed = (Object.keys(files) as (keyof SnapshotFiles)[]).find((kind) => found[kind] !== pointer.sha256[kind]);
      if (changed) return { unusable: `snapshot ${changed} ${files[changed]} is corrupt (its SHA-256 is not the one written)` };
      const mirror = JSON.parse(await readFile(files.mirror, 'utf8')) as MirrorSnapshot;
      const raw = await readFile(files.units);
      // A Float32Array needs 4-byte alignment; a file read into its own buffer has it, a pooled one may not.
      const aligned = raw.byteOffset % 4 === 0 ? raw : Buffer.from(raw);
      const units = new Float32Array(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / 4));
      return { core: await HnswIndex.load(this.opts.hnsw, files.graph, mirror, units), positions: pointer.positions };
    } catch (err) {
      return { unusable: `snapshot ${files.graph} is missing or corrupt (${(err as Error).message})` };
    }
  }

  private async pointer(): Promise<SnapshotPointer> {
    return JSON.parse(await readFile(this.pointerFile, 'utf8')) as SnapshotPointer;
  }
}

/** Each file's SHA-256, read as a stream (no file is held in memory for it, and the event loop goes on between chunks). */
async function digests(files: SnapshotFiles): Promise<SnapshotFiles> {
  const digest = async (file: string) => {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };
  const [graph, mirror, units] = await Promise.all([digest(files.graph), digest(files.mirror), digest(files.units)]);
  return { graph, mirror, units };
}

/** Writes a JSON text piece by piece, yielding to the event loop every few ms so that searches are not held up. */
async function writePieces(file: string, pieces: Iterable<string | Buffer>): Promise<void> {
  const out = createWriteStream(file);
  try {
    for (const piece of pieces) {
      if (!out.write(piece)) await once(out, 'drain');
      await nextSlice();
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}
