import { createHash } from 'node:crypto';
import { countTokens } from '../context/tokenizer';
import { InvalidInputError } from '../errors/invalid-input.error';
import type { RedisClient } from '../redis/create-redis';
import type { KeySchema, MemoryScope } from '../redis/key-schema';
import type { MemoryStore } from './memory-store';
import { type MemorySource, type MemoryType, TURN_FIELDS as F } from './turn';
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
  embedding: Float32Array;
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

// Applies one extraction to a scope, if the session's watermark is still the one the extraction read (else {-1}):
// adds, updates (the old version is pushed onto the memory's history with the time it stopped being true) and
// deletes (the same, and the id is kept among the retired so forgetting finds its history). The change-log entries the
// in-process indexes need are queued in the same step (an update is a removal and an add: its vector changed), so a
// crash before they are appended cannot lose them (see flushLog). KEYS: the session's watermark, memories zset,
// retired set, unlogged list. ARGV: session, expected, next, now, the scope's memory-key and history prefixes, then
// per op: name, field-count, id, fields... Memory keys are built from the prefixes (see FORGET).
const APPLY = `
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[2]) then return {-1} end
local now = ARGV[4]
local out = {1, 0, 0, 0}
local removed, added = {}, {}
local i = 7
while i <= #ARGV do
  local op, n, id = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local key, history = ARGV[5] .. id, ARGV[6] .. id .. ':history'
  if op ~= 'add' then removed[#removed + 1] = 'rm ' .. key end
  if op ~= 'delete' then added[#added + 1] = 'add ' .. key end
  if op == 'add' then
    redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + n))
    redis.call('ZADD', KEYS[2], now, id)
    out[2] = out[2] + 1
  else
    local old = redis.call('HMGET', key, 'content', 'memory_type', 'entities', 'sources', 'timestamp')
    if old[1] then
      redis.call('LPUSH', history, '{"content":' .. cjson.encode(old[1]) .. ',"type":' .. cjson.encode(old[2]) ..
        ',"entities":' .. old[3] .. ',"sources":' .. old[4] .. ',"validFrom":' .. old[5] .. ',"validUntil":' .. now ..
        ',"change":"' .. op .. '"}')
      if op == 'update' then
        redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + n))
        redis.call('ZADD', KEYS[2], now, id)
        out[3] = out[3] + 1
      else
        redis.call('DEL', key)
        redis.call('ZREM', KEYS[2], id)
        redis.call('SADD', KEYS[3], id)
        out[4] = out[4] + 1
      end
    end
  end
  i = i + 3 + n
end
redis.call('SET', KEYS[1], ARGV[3])
if #removed > 0 then redis.call('RPUSH', KEYS[4], unpack(removed)) end
if #added > 0 then redis.call('RPUSH', KEYS[4], unpack(added)) end
return out
`;

// Forgets a scope's memories derived from one session (ARGV[5] '1': every memory of the scope), live and retired,
// with their histories, and sets the session's watermark to ARGV[2] (its last seq) for ARGV[6] seconds, as long as
// its seq counter lives: an extraction of the forgotten turns still running finds the watermark moved and writes
// nothing, and a session of the same name started after the counter expired starts from 0 again. Memory and history
// keys are built from the scope's prefixes (ARGV[3], ARGV[4]): they carry the scope's hash tag, so the script stays
// in its slot, and the declared keys stay a fixed three (ioredis routes an auto-pipelined cluster script by its
// first argument). Returns the keys of the live memories deleted.
const FORGET = `
local needle = '"session":' .. cjson.encode(ARGV[1])
local gone = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = ARGV[3] .. id
  local sources = redis.call('HGET', key, 'sources') or ''
  if ARGV[5] == '1' or string.find(sources, needle, 1, true) then
    redis.call('DEL', key, ARGV[4] .. id .. ':history')
    redis.call('ZREM', KEYS[2], id)
    gone[#gone + 1] = key
  end
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local history = ARGV[4] .. id .. ':history'
  if ARGV[5] == '1' or string.find(redis.call('LINDEX', history, 0) or '', needle, 1, true) then
    redis.call('DEL', history)
    redis.call('SREM', KEYS[3], id)
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6])
redis.call('DEL', KEYS[4])
return gone
`;

// Forgets one memory and its history: 1 when it existed (live or retired), else 0.
const DELETE = `
local live = redis.call('ZREM', KEYS[3], ARGV[1])
local retired = redis.call('SREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return live + retired
`;

type Args = (string | number | Buffer)[];
type ScriptedRedis = RedisClient & {
  memApplyMemories(...args: Args): Promise<number[]>;
  memForgetMemories(...args: Args): Promise<string[]>;
  memDeleteMemory(...args: Args): Promise<number>;
};

/** What a listing reads of a memory's hash: everything but the vector, which only the extractor needs. */
const MEMORY_FIELDS = [F.content, F.memoryType, F.entities, F.sources, F.timestamp, 'created'] as const;

/**
 * The repository of long-term memories: hashes beside the turns (so every index backend covers them, kind=memory),
 * each scope's list, histories and extraction watermarks. Every script touches one scope's slot.
 */
export class MemoryRepository {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly keys: KeySchema,
    private readonly store: MemoryStore,
    /** How long a deleted session's watermark is kept: as long as its seq counter (FORGET_TTL_SECONDS). */
    private readonly forgetTtlSeconds = 24 * 3600,
  ) {
    redis.defineCommand('memApplyMemories', { numberOfKeys: 4, lua: APPLY });
    redis.defineCommand('memForgetMemories', { numberOfKeys: 4, lua: FORGET });
    redis.defineCommand('memDeleteMemory', { numberOfKeys: 4, lua: DELETE });
    this.redis = redis as ScriptedRedis;
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
    const args: Args = [session, expected, next, now, this.keys.scopeMemories(scope), this.keys.memoryHistoryPrefix(scope)];
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

  /** Every memory of a scope with its vector (the extractor compares candidates with them). */
  async vectors(scope: MemoryScope): Promise<MemoryVector[]> {
    const ids = await this.redis.zrange(this.keys.memoryIndex(scope), 0, -1);
    const rows = await Promise.all(ids.map((id) => this.redis.hmgetBuffer(this.keys.memory(scope, id), ...MEMORY_FIELDS, F.embedding)));
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
    const existed = await this.redis.memDeleteMemory(key, this.keys.memoryHistory(scope, id), this.keys.memoryIndex(scope), this.keys.retiredMemories(scope), id);
    await this.log(scope, 'rm', [key]);
    return existed === 1;
  }

  /**
   * Forgets what was learnt from a deleted session: under its user's scope the memories any of its turns went into,
   * and all of its own scope's (learnt before a user claimed it, or with no user at all). `lastSeq` becomes its
   * watermark in both for a while (see FORGET).
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
  private hashFields(scope: MemoryScope, m: MemoryWrite & { op: 'add' | 'update'; id: string }, now: number): Args {
    const fields: Args = [
      F.kind, 'memory',
      F.tenant, scope.tenant,
      scope.kind === 'user' ? F.user : F.session, scope.id,
      F.turnId, m.id,
      F.seq, 0,
      F.role, 'system',
      F.content, m.content,
      F.timestamp, now,
      F.tokenCount, countTokens(m.content),
      F.embedding, vectorToBuffer(m.embedding),
      F.memoryType, m.type,
      F.entities, JSON.stringify(m.entities),
      F.sources, JSON.stringify(m.sources),
    ];
    if (m.op === 'add') fields.push('created', now);
    return fields;
  }
}
