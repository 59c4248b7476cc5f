import { DimensionMismatchError } from '../../errors/dimension-mismatch.error';
import type { StoredVector } from '../../store/memory-store';
import type { MemoryKind, Role } from '../../store/turn';
import { turnBrief } from '../../store/turn-hash';
import { TextIndex, type TextIndexSnapshot } from './text-index';
import type { RankedKey, VectorHit, VectorQuery } from '../vector-index';

interface Entry {
  key: string;
  kind: MemoryKind;
  tenant: string;
  session: string;
  user?: string;
  tags?: string[];
  role: Role;
  timestamp: number;
  /** The re-rank reads these (with session, timestamp and kind) from here, not from Redis. */
  seq: number;
  eventAt?: number;
  speaker?: string;
  /** Unit length, so cosine similarity is a dot product. */
  unit: Float32Array;
}

/** One label's entry without its vector (which the snapshot's graph holds), or null for a forgotten label. */
export type MirrorRow =
  | [key: string, tenant: string, session: string, user: string | null, tags: string[] | null, role: Role, timestamp: number, kind: MemoryKind, seq: number, eventAt: number | null, speaker: string | null]
  | null;

export interface MirrorSnapshot {
  rows: MirrorRow[];
  text: TextIndexSnapshot;
}

/**
 * The in-process copy of the stored vectors, and the full-text index of their contents, that the exact and hnsw
 * backends search. Labels are dense integers (hnswlib's and MiniSearch's ids); per-session and per-user label sets
 * keep filtering away from other sessions' and users' vectors.
 */
export class VectorMirror {
  private readonly entries: (Entry | undefined)[] = [];
  private readonly labelByKey = new Map<string, number>();
  /** tenant -> session -> labels */
  private readonly sessions = new Map<string, Map<string, Set<number>>>();
  /** tenant -> user -> labels */
  private readonly users = new Map<string, Map<string, Set<number>>>();
  private readonly tenantSizes = new Map<string, number>();
  /** tenant -> labels of its extracted memories (few beside its turns: a search of memories visits only these) */
  private readonly memories = new Map<string, Set<number>>();
  private memoryCount = 0;

  constructor(
    readonly dim: number,
    private readonly text = new TextIndex(),
  ) {}

  /**
   * The JSON text of a MirrorSnapshot (everything but the vectors, by label) in pieces of a few thousand rows or one
   * session's text index, so a caller can yield between them; the mirror must not change until the last piece.
   */
  *snapshotJson(): Generator<string> {
    const row = (e: Entry | undefined): MirrorRow => (e ? [e.key, e.tenant, e.session, e.user ?? null, e.tags ?? null, e.role, e.timestamp, e.kind, e.seq, e.eventAt ?? null, e.speaker ?? null] : null);
    yield '{"rows":[';
    for (let i = 0; i < this.entries.length; i += 2000) {
      yield `${i ? ',' : ''}${this.entries.slice(i, i + 2000).map((e) => JSON.stringify(row(e))).join(',')}`;
    }
    yield '],"text":';
    yield* this.text.snapshotJson();
    yield '}';
  }

  /** The live labels' unit vectors in label order, as bytes, for a snapshot (the mirror must not change meanwhile). */
  *unitBytes(): Generator<Buffer> {
    for (const e of this.entries) if (e) yield Buffer.from(e.unit.buffer, e.unit.byteOffset, e.unit.byteLength);
  }

  /** The mirror a snapshot was taken of; `unit` gives each live label's unit vector, in label order. */
  static restore(dim: number, snapshot: MirrorSnapshot, unit: (label: number) => Float32Array): VectorMirror {
    const mirror = new VectorMirror(dim, TextIndex.restore(snapshot.text));
    for (const [label, row] of snapshot.rows.entries()) {
      if (!row) {
        mirror.entries.push(undefined);
        continue;
      }
      const [key, tenant, session, user, tags, role, timestamp, kind, seq, eventAt, speaker] = row;
      const v = unit(label);
      if (v.length !== dim) throw new DimensionMismatchError(dim, v.length, `Snapshot vector ${key}`);
      mirror.entries.push({ key, kind, tenant, session, user: user ?? undefined, tags: tags ?? undefined, role, timestamp, seq, eventAt: eventAt ?? undefined, speaker: speaker ?? undefined, unit: v });
      mirror.register(label, key, kind, tenant, session, user ?? undefined);
    }
    return mirror;
  }

  get size(): number {
    return this.labelByKey.size;
  }

  /** Adds a vector and returns its label, or undefined when the key is already mirrored (turn hashes never change). */
  add(v: StoredVector): number | undefined {
    if (v.embedding.length !== this.dim) throw new DimensionMismatchError(this.dim, v.embedding.length, `Stored turn ${v.key}`);
    if (this.labelByKey.has(v.key)) return undefined;
    const label = this.entries.length;
    this.entries.push({
      key: v.key, kind: v.kind ?? 'turn', tenant: v.tenant, session: v.session, user: v.user, tags: v.tags, role: v.role, timestamp: v.timestamp,
      seq: v.seq, eventAt: v.eventAt, speaker: v.speaker, unit: normalise(v.embedding),
    });
    this.register(label, v.key, v.kind ?? 'turn', v.tenant, v.session, v.user);
    this.text.add(label, v.tenant, v.session, v.content, v.context);
    return label;
  }

  /** Files a label under its key, session, user, kind and tenant. */
  private register(label: number, key: string, kind: MemoryKind, tenant: string, session: string, user: string | undefined): void {
    this.labelByKey.set(key, label);
    labelsOf(this.sessions, tenant, session).add(label);
    if (user !== undefined) labelsOf(this.users, tenant, user).add(label);
    if (kind === 'memory') {
      if (!this.memories.has(tenant)) this.memories.set(tenant, new Set());
      this.memories.get(tenant)!.add(label);
      this.memoryCount++;
    }
    this.tenantSizes.set(tenant, (this.tenantSizes.get(tenant) ?? 0) + 1);
  }

  /** Forgets a session's vectors and returns their labels. */
  removeSession(tenant: string, session: string): number[] {
    const bySession = this.sessions.get(tenant);
    const labels = [...(bySession?.get(session) ?? [])];
    bySession?.delete(session);
    this.text.removeSession(tenant, session);
    for (const label of labels) this.forget(label);
    this.tenantSizes.set(tenant, (this.tenantSizes.get(tenant) ?? 0) - labels.length);
    return labels;
  }

  /** Forgets one vector and returns its label ([] for an unknown key). */
  removeKey(key: string): number[] {
    const label = this.labelByKey.get(key);
    if (label === undefined) return [];
    const { tenant, session } = this.entries[label]!;
    this.sessions.get(tenant)?.get(session)?.delete(label);
    this.text.remove(label, tenant, session);
    this.forget(label);
    this.tenantSizes.set(tenant, (this.tenantSizes.get(tenant) ?? 0) - 1);
    return [label];
  }

  /** Drops a label from the key map, its user's and kind's sets and the entries (the caller handles its session's set). */
  private forget(label: number): void {
    const { key, tenant, user } = this.entries[label]!;
    this.labelByKey.delete(key);
    if (this.memories.get(tenant)?.delete(label)) this.memoryCount--;
    if (user !== undefined) {
      const byUser = this.users.get(tenant);
      const labels = byUser?.get(user);
      labels?.delete(label);
      if (labels?.size === 0) byUser!.delete(user);
    }
    this.entries[label] = undefined;
  }

  key(label: number): string {
    return this.entries[label]!.key;
  }

  unit(label: number): Float32Array {
    return this.entries[label]!.unit;
  }

  /** Ranked keys with their turns' briefs; a key forgotten since it was ranked is left out. */
  withBriefs(ranked: RankedKey[]): VectorHit[] {
    return ranked.flatMap((r) => {
      const label = this.labelByKey.get(r.key);
      if (label === undefined) return [];
      const entry = this.entries[label]!;
      return [{ ...r, brief: turnBrief(entry, entry.kind === 'memory') }];
    });
  }

  /** The best k keys that pass the query's filters by BM25 score of their content against the query's text. */
  textRank(q: VectorQuery, k: number): RankedKey[] {
    return this.text.search(q.text ?? '', q, this.predicate(q), k).map(({ label, score }) => ({ key: this.key(label), similarity: score }));
  }

  /** True when every mirrored vector passes the query's filters, so a search needs no filter at all. */
  coversAll(q: VectorQuery): boolean {
    return q.sessions === undefined && q.users === undefined && q.since === undefined && q.until === undefined &&
      q.roles === undefined && q.tags === undefined && this.coversKinds(q) && this.tenantSizes.get(q.tenant) === this.size;
  }

  /** True when every mirrored vector is of the query's kinds (a search of turns where no memory is mirrored yet). */
  private coversKinds(q: VectorQuery): boolean {
    if (q.kinds === undefined || (q.kinds.includes('turn') && q.kinds.includes('memory'))) return true;
    return q.kinds.includes('turn') ? this.memoryCount === 0 : this.memoryCount === this.size;
  }

  /** The share of all mirrored vectors in the query's label sets (or its tenant): an upper bound of its selectivity. */
  share(q: VectorQuery): number {
    if (this.size === 0) return 0;
    const sets = this.labelSets(q);
    const inScope = sets ? sets.reduce((sum, labels) => sum + labels.size, 0) : (this.tenantSizes.get(q.tenant) ?? 0);
    return inScope / this.size;
  }

  /** The query's filters as a predicate over labels (for hnswlib's filter callback). */
  predicate(q: VectorQuery): (label: number) => boolean {
    const sessions = q.sessions && new Set(q.sessions);
    const users = q.users && new Set(q.users);
    const roles = q.roles && new Set(q.roles);
    const tags = q.tags && new Set(q.tags);
    const kinds = q.kinds && new Set(q.kinds);
    const since = q.since ?? -Infinity;
    const until = q.until ?? Infinity;
    return (label) => {
      const e = this.entries[label];
      return e !== undefined && e.tenant === q.tenant && (!sessions || sessions.has(e.session)) &&
        (!users || (e.user !== undefined && users.has(e.user))) && e.timestamp >= since && e.timestamp <= until &&
        (!roles || roles.has(e.role)) && (!tags || (e.tags ?? []).some((t) => tags.has(t))) && (!kinds || kinds.has(e.kind));
    };
  }

  /**
   * The labels that pass the query's filters, visiting only the named sessions' (or users', or the tenant's) label sets.
   * Returns undefined as soon as more than `limit` pass, so a large candidate set costs at most `limit` matches.
   */
  candidates(q: VectorQuery, limit = Infinity): number[] | undefined {
    if (this.size > limit && this.coversAll(q)) return undefined;
    const matches = this.predicate(q);
    const out: number[] = [];
    for (const labels of this.labelSets(q) ?? this.sessions.get(q.tenant)?.values() ?? []) {
      for (const label of labels) {
        if (!matches(label)) continue;
        if (out.length === limit) return undefined;
        out.push(label);
      }
    }
    return out;
  }

  /**
   * The label sets of the query's sessions, else of its users, else (a search of memories alone) of its tenant's
   * memories; undefined when it names none of them (the whole tenant).
   */
  private labelSets(q: VectorQuery): Set<number>[] | undefined {
    if (q.kinds?.length === 1 && q.kinds[0] === 'memory') return [this.memories.get(q.tenant) ?? new Set<number>()];
    const [index, names] = q.sessions ? [this.sessions, q.sessions] : q.users ? [this.users, q.users] : [];
    if (!index || !names) return undefined;
    const byName = index.get(q.tenant);
    return [...new Set(names)].flatMap((name) => byName?.get(name) ?? []);
  }
}

/** The label set of `name` under `tenant`, created when missing. */
function labelsOf(index: Map<string, Map<string, Set<number>>>, tenant: string, name: string): Set<number> {
  let byName = index.get(tenant);
  if (!byName) index.set(tenant, (byName = new Map()));
  let labels = byName.get(name);
  if (!labels) byName.set(name, (labels = new Set()));
  return labels;
}

export function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (sum === 0) return out;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** The dot product: the cosine similarity of two unit vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}
