import { createHash } from 'node:crypto';
import { countTokens } from '../context/tokenizer';
import { InvalidInputError } from '../errors/invalid-input.error';
import type { RedisClient } from '../redis/create-redis';
import { hmgetEach } from '../redis/hmget-each';
import type { KeySchema, MemoryScope } from '../redis/key-schema';
import type { MemoryStore } from './memory-store';
import { type ScriptArgs, type StoreCommands, withStoreCommands } from './store-commands';
import { embeddingFields, type Embeddings, type MemorySource, type MemoryType, TURN_FIELDS as F } from './turn';
import { bufferToVector, vectorToBuffer } from './vector-bytes';

/** u.<user>.<digest> or s.<session>.<digest> (see MemoryRepository.memoryId). */
export const MEMORY_ID_PATTERN = /^([us])\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16})$/;

/** A long-term memory as the API lists it. */
export interface StoredMemory {
  id: string;
  scope: MemoryScope;
  content: string;
  type: MemoryType;
  entities: string[];
  sources: MemorySource[];
  /** When the current version became true (epoch ms). */
  validFrom: number;
  createdAt: number;
}

/** An earlier version of a memory, with the time it stopped being true and why. */
export interface MemoryVersion {
  content: string;
  type: MemoryType;
  entities: string[];
  sources: MemorySource[];
  validFrom: number;
  validUntil: number;
  change: 'update' | 'delete';
}

/** A memory's text and fields as the extractor writes them. */
export interface MemoryWrite {
  content: string;
  type: MemoryType;
  entities: string[];
  sources: MemorySource[];
  embedding: Embeddings;
}

export type MemoryOp = ({ op: 'add' | 'update'; id: string } & MemoryWrite) | { op: 'delete'; id: string };

export interface ApplyResult {
  /** False when another job moved the session's watermark first: nothing was written. */
  applied: boolean;
  added: number;
  updated: number;
  deleted: number;
}

/** A stored memory with its vector, for comparing a candidate with its scope's memories. */
export interface MemoryVector {
  memory: StoredMemory;
  embedding: Float32Array;
}

/** What a listing reads of a memory's hash: everything but the vector, which only the extractor needs. */
const MEMORY_FIELDS = [F.content, F.memoryType, F.entities, F.sources, F.timestamp, 'created'] as const;

/**
 * The repository of long-term memories: hashes beside the turns (so every index backend covers them, kind=memory),
 * each scope's list, histories and extraction watermarks. Every script touches one scope's slot.
 */
export class MemoryRepository {
  private readonly redis: RedisClient & StoreCommands;

  constructor(
    redis: RedisClient,
    private readonly keys: KeySchema,
    private readonly store: MemoryStore,
    /** How long a deleted session's watermark is kept: as long as its seq counter (FORGET_TTL_SECONDS). */
    private readonly forgetTtlSeconds = 24 * 3600,
  ) {
    this.redis = withStoreCommands(redis);
  }

  /** The scope of a session's memories: its user's when it has one, else its own. */
  static scopeOf(tenant: string, session: string, user?: string): MemoryScope {
    return user ? { tenant, kind: 'user', id: user } : { tenant, kind: 'session', id: session };
  }

  /**
   * A memory id names its scope ('u.alice.x1Y2' or 's.support-42.x1Y2'), so a request that names only the id
   * reaches the memory's slot at once; the hash part is derived from the extraction that made it, so a replay of
   * the same extraction makes the same id.
   */
  static memoryId(scope: MemoryScope, session: string, seq: number, index: number): string {
    const digest = createHash('sha256').update(`${session}\n${seq}\n${index}`).digest('base64url').slice(0, 16);
    return `${scope.kind === 'user' ? 'u' : 's'}.${scope.id}.${digest}`;
  }

  /** The scope a memory id names, under the caller's tenant; InvalidInputError for anything that is not a memory id. */
  static parseMemoryId(tenant: string, id: string): MemoryScope {
    const m = MEMORY_ID_PATTERN.exec(id);
    if (!m) throw new InvalidInputError(`a memory id must match ${MEMORY_ID_PATTERN.source}`);
    return { tenant, kind: m[1] === 'u' ? 'user' : 'session', id: m[2] };
  }

  /** The seq up to which the session's turns are extracted (0: none yet). */
  async watermark(scope: MemoryScope, session: string): Promise<number> {
    return Number((await this.redis.get(this.keys.extracted(scope, session))) ?? 0);
  }

  /**
   * Applies an extraction's ops and moves the session's watermark from `expected` to `next`, atomically and only if
   * it is still `expected`; then logs the changed keys for the in-process indexes (see flushLog).
   */
  async apply(scope: MemoryScope, session: string, expected: number, next: number, ops: MemoryOp[]): Promise<ApplyResult> {
    const now = Date.now();
    const args: ScriptArgs = [session, expected, next, now, this.keys.scopeMemories(scope), this.keys.memoryHistoryPrefix(scope)];
    for (const op of ops) {
      const fields = op.op === 'delete' ? [] : this.hashFields(scope, op, now);
      args.push(op.op, fields.length, op.id, ...fields);
    }
    const [code, added = 0, updated = 0, deleted = 0] = await this.redis.memApplyMemories(
      this.keys.extracted(scope, session),
      this.keys.memoryIndex(scope),
      this.keys.retiredMemories(scope),
      this.keys.unloggedMemories(scope, session),
      ...args,
    );
    if (code === -1) return { applied: false, added: 0, updated: 0, deleted: 0 };
    await this.flushLog(scope, session);
    return { applied: true, added, updated, deleted };
  }

  /**
   * Appends the change-log entries queued by the session's last apply, in order, then drops them. An extraction
   * flushes before it reads (a job that crashed between applying and logging is taken over, finds nothing left to
   * extract, and logs what it left) and after it applies. Only the session's one extraction job pushes to or drops
   * from its list; an entry appended twice is harmless (a removal of a missing key, or an add of a key already
   * indexed, changes nothing; a removal and add replayed reload the current vector).
   */
  async flushLog(scope: MemoryScope, session: string): Promise<void> {
    const list = this.keys.unloggedMemories(scope, session);
    const entries = await this.redis.lrange(list, 0, -1);
    for (let i = 0; i < entries.length; ) {
      const op = entries[i].split(' ')[0] as 'add' | 'rm';
      const keys: string[] = [];
      for (; i < entries.length && entries[i].startsWith(`${op} `); i++) keys.push(entries[i].slice(op.length + 1));
      await this.log(scope, op, keys);
    }
    if (entries.length > 0) await this.redis.ltrim(list, entries.length, -1);
  }

  /**
   * A page of a scope's memories, most recently changed first; with `fromSession`, only those derived from that
   * session (a scope is one user's memories: it is read whole).
   */
  async list(scope: MemoryScope, offset: number, limit: number, fromSession?: string): Promise<{ total: number; memories: StoredMemory[] }> {
    const index = this.keys.memoryIndex(scope);
    if (fromSession === undefined) {
      const [total, ids] = await Promise.all([this.redis.zcard(index), this.redis.zrevrange(index, offset, offset + limit - 1)]);
      return { total, memories: await this.loadMemories(scope, ids) };
    }
    const derived = (await this.loadMemories(scope, await this.redis.zrevrange(index, 0, -1))).filter((m) => m.sources.some((s) => s.session === fromSession));
    return { total: derived.length, memories: derived.slice(offset, offset + limit) };
  }

  /** Every memory of a scope with its vector of one generation (the extractor compares candidates with them). */
  async vectors(scope: MemoryScope, field: string = F.embedding): Promise<MemoryVector[]> {
    const ids = await this.redis.zrange(this.keys.memoryIndex(scope), 0, -1);
    const rows = await hmgetEach(this.redis, ids.map((id) => this.keys.memory(scope, id)), [...MEMORY_FIELDS, field], 'buffers');
    return rows.flatMap((row, i) => {
      const memory = this.parse(scope, ids[i], row.slice(0, -1).map((b) => b?.toString() ?? null));
      const embedding = row[row.length - 1];
      return memory && embedding ? [{ memory, embedding: bufferToVector(embedding) }] : [];
    });
  }

  /** The memory and its earlier versions, newest first; undefined when it was never stored or is forgotten. */
  async history(scope: MemoryScope, id: string): Promise<{ current?: StoredMemory; versions: MemoryVersion[] } | undefined> {
    const [loaded, versions] = await Promise.all([this.load(scope, id), this.redis.lrange(this.keys.memoryHistory(scope, id), 0, -1)]);
    if (!loaded && versions.length === 0) return undefined;
    return { current: loaded, versions: versions.map((v) => JSON.parse(v) as MemoryVersion) };
  }

  /** Forgets one memory and its history; false when there was none. */
  async delete(scope: MemoryScope, id: string): Promise<boolean> {
    const key = this.keys.memory(scope, id);
    const existed = (await this.redis.memDeleteMemory(key, this.keys.memoryHistory(scope, id), this.keys.memoryIndex(scope), this.keys.retiredMemories(scope), id)) > 0;
    // Nothing to tell the indexes about a memory that was not there: junk deletes must not fill the change log.
    if (existed) await this.log(scope, 'rm', [key]);
    return existed;
  }

  /**
   * Forgets what was learnt from a deleted session: under its user's scope the memories any of its turns went into,
   * and all of its own scope's (learnt before a user claimed it, or with no user at all). `lastSeq` becomes its
   * watermark in both for a while (see lua/forget-memories.lua).
   */
  async forgetSession(tenant: string, session: string, user: string | undefined, lastSeq: number): Promise<number> {
    const scopes = [MemoryRepository.scopeOf(tenant, session), ...(user ? [MemoryRepository.scopeOf(tenant, session, user)] : [])];
    const gone = await Promise.all(scopes.map((scope) => this.forgetFrom(scope, session, lastSeq)));
    return gone.reduce((a, b) => a + b, 0);
  }

  private async forgetFrom(scope: MemoryScope, session: string, lastSeq: number): Promise<number> {
    const gone = await this.redis.memForgetMemories(
      this.keys.extracted(scope, session),
      this.keys.memoryIndex(scope),
      this.keys.retiredMemories(scope),
      this.keys.unloggedMemories(scope, session),
      session,
      lastSeq,
      this.keys.scopeMemories(scope),
      this.keys.memoryHistoryPrefix(scope),
      scope.kind === 'session' ? '1' : '0',
      this.forgetTtlSeconds,
    );
    await this.log(scope, 'rm', gone);
    return gone.length;
  }

  private async loadMemories(scope: MemoryScope, ids: string[]): Promise<StoredMemory[]> {
    return (await Promise.all(ids.map((id) => this.load(scope, id)))).filter((m): m is StoredMemory => m !== undefined);
  }

  private async load(scope: MemoryScope, id: string): Promise<StoredMemory | undefined> {
    return this.parse(scope, id, await this.redis.hmget(this.keys.memory(scope, id), ...MEMORY_FIELDS));
  }

  /** A memory from its hash's MEMORY_FIELDS; undefined when it is gone. */
  private parse(scope: MemoryScope, id: string, [content, type, entities, sources, timestamp, created]: (string | null)[]): StoredMemory | undefined {
    if (!content || !type || !timestamp) return undefined;
    return {
      id,
      scope,
      content,
      type: type as MemoryType,
      entities: JSON.parse(entities ?? '[]') as string[],
      sources: JSON.parse(sources ?? '[]') as MemorySource[],
      validFrom: Number(timestamp),
      createdAt: Number(created ?? timestamp),
    };
  }

  private log(scope: MemoryScope, op: 'add' | 'rm', keys: string[]): Promise<unknown> {
    return keys.length === 0 ? Promise.resolve() : this.store.appendLog(scope.tenant, this.keys.scopePartition(scope), { op, keys });
  }

  /** The hash of a memory: the turn fields every index reads (role 'system', seq 0, the id as turn id) plus its own. */
  private hashFields(scope: MemoryScope, m: MemoryWrite & { op: 'add' | 'update'; id: string }, now: number): ScriptArgs {
    const fields: ScriptArgs = [
      F.kind, 'memory',
      F.tenant, scope.tenant,
      scope.kind === 'user' ? F.user : F.session, scope.id,
      F.turnId, m.id,
      F.seq, 0,
      F.role, 'system',
      F.content, m.content,
      F.timestamp, now,
      F.tokenCount, countTokens(m.content),
      ...embeddingFields(m.embedding).flatMap(([field, v]) => [field, vectorToBuffer(v)]),
      F.memoryType, m.type,
      F.entities, JSON.stringify(m.entities),
      F.sources, JSON.stringify(m.sources),
    ];
    if (m.op === 'add') fields.push('created', now);
    return fields;
  }
}
