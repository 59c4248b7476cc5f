import type Redis from 'ioredis';
import { KeySchema } from '../redis/key-schema';
import { ROLES, Role, StoredTurn, TURN_FIELDS as F, TurnWrite, WriteResult } from './turn';
import { bufferToVector, vectorToBuffer } from './vector-bytes';

/** A stored turn with its vector, as index rebuilds read it. */
export interface StoredVector {
  key: string;
  tenant: string;
  session: string;
  role: Role;
  timestamp: number;
  embedding: Float32Array;
  /** For the in-process full-text index. */
  content: string;
}

// Writes the hash, the id map, the history entry, the session set and the change-log entry atomically,
// unless the turn id is already stored (then it returns the existing seq and writes nothing), or the turn was
// accepted before its session was forgotten (its seq is at or below the forget mark: nothing is written).
const WRITE_TURN = `
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {0, existing, ''} end
if tonumber(ARGV[2]) <= tonumber(redis.call('GET', KEYS[6]) or '0') then return {0, ARGV[2], ''} end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
local id = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', 'op', 'add', 'key', KEYS[1])
return {1, ARGV[2], id}
`;

// Deletes every turn hash of a session and its bookkeeping, then logs one 'del' entry. The seq counter stays,
// (raised past every stored seq), so later turns never reuse a number, and its value becomes the forget mark:
// turns accepted before the delete but still queued are dropped when they reach the store.
// Returns -1 for a session that has neither a counter nor a stored turn.
const DELETE_SESSION = `
local seqs = redis.call('ZRANGE', KEYS[2], 0, -1)
local accepted = redis.call('GET', KEYS[5])
if not accepted and #seqs == 0 then return {-1, ''} end
local mark = tonumber(accepted or '0')
for _, s in ipairs(seqs) do
  redis.call('DEL', ARGV[1] .. s)
  if tonumber(s) > mark then mark = tonumber(s) end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[5], mark)
redis.call('SET', KEYS[6], mark)
redis.call('SREM', KEYS[3], ARGV[3])
local id = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'op', 'del', 'tenant', ARGV[2], 'session', ARGV[3])
return {#seqs, id}
`;

const READ_FIELDS = [F.tenant, F.session, F.seq, F.turnId, F.role, F.content, F.timestamp, F.tokenCount, F.metadata];

type ScriptedRedis = Redis & {
  memWriteTurn(...args: (string | number | Buffer)[]): Promise<[number, string, string]>;
  memDeleteSession(...args: (string | number)[]): Promise<[number, string]>;
};

/** The repository for conversation turns: every read and write of turn data goes through here. */
export class MemoryStore {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    readonly keys: KeySchema,
    /** Approximate length the change log is trimmed to. */
    private readonly changelogMaxLen = 100_000,
  ) {
    redis.defineCommand('memWriteTurn', { numberOfKeys: 6, lua: WRITE_TURN });
    redis.defineCommand('memDeleteSession', { numberOfKeys: 6, lua: DELETE_SESSION });
    this.redis = redis as ScriptedRedis;
  }

  /** Reserves `n` consecutive sequence numbers in a session and returns the first. */
  async reserveSeq(tenant: string, session: string, n = 1): Promise<number> {
    const last = await this.redis.incrby(this.keys.seq(tenant, session), n);
    return last - n + 1;
  }

  /** Writes turns idempotently (by turn id) in one round trip. */
  async write(turns: TurnWrite[]): Promise<WriteResult[]> {
    const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & { exec(): ReturnType<Redis['exec']> };
    for (const t of turns) {
      const key = this.keys.turn(t.tenant, t.session, t.seq);
      pipeline.memWriteTurn(
        key,
        this.keys.turnIds(t.tenant, t.session),
        this.keys.history(t.tenant, t.session),
        this.keys.sessions(t.tenant),
        this.keys.changelog,
        this.keys.forgotten(t.tenant, t.session),
        t.turnId,
        t.seq,
        t.session,
        this.changelogMaxLen,
        ...this.hashFields(t),
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, reply], i) => {
      if (err) throw err;
      const [created, seq, logId] = reply as [number, string, string];
      const t = turns[i];
      return { turnId: t.turnId, seq: Number(seq), key: this.keys.turn(t.tenant, t.session, Number(seq)), created: created === 1, logId };
    });
  }

  async getTurn(tenant: string, session: string, seq: number): Promise<StoredTurn | null> {
    const [turn] = await this.getTurns([this.keys.turn(tenant, session, seq)]);
    return turn;
  }

  /** Loads turns by key, without their vectors; a key that no longer exists gives null. */
  async getTurns(keys: string[]): Promise<(StoredTurn | null)[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hmget(key, ...READ_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, values], i) => {
      if (err) throw err;
      return this.parseTurn(keys[i], values as (string | null)[]);
    });
  }

  /** A page of a session's history, oldest first. */
  async history(tenant: string, session: string, offset = 0, limit = 50): Promise<{ total: number; turns: StoredTurn[] }> {
    const historyKey = this.keys.history(tenant, session);
    const [total, seqs] = await Promise.all([
      this.redis.zcard(historyKey),
      this.redis.zrange(historyKey, offset, offset + limit - 1),
    ]);
    return { total, turns: await this.turnsBySeq(tenant, session, seqs) };
  }

  /** The session's latest `n` turns, oldest first. */
  async recent(tenant: string, session: string, n: number): Promise<StoredTurn[]> {
    if (n <= 0) return [];
    const seqs = await this.redis.zrange(this.keys.history(tenant, session), -n, -1);
    return this.turnsBySeq(tenant, session, seqs);
  }

  async countSession(tenant: string, session: string): Promise<number> {
    return this.redis.zcard(this.keys.history(tenant, session));
  }

  async listSessions(tenant: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.sessions(tenant))).sort();
  }

  /**
   * Forgets a session: its turns, its bookkeeping, (through the change log) its vectors, and the turns
   * accepted for it that are still queued. Null when the session never accepted a turn.
   */
  async deleteSession(tenant: string, session: string): Promise<{ deleted: number; logId: string } | null> {
    const [deleted, logId] = await this.redis.memDeleteSession(
      this.keys.turnIds(tenant, session),
      this.keys.history(tenant, session),
      this.keys.sessions(tenant),
      this.keys.changelog,
      this.keys.seq(tenant, session),
      this.keys.forgotten(tenant, session),
      this.keys.sessionTurns(tenant, session),
      tenant,
      session,
      this.changelogMaxLen,
    );
    return deleted < 0 ? null : { deleted, logId };
  }

  /** The change log's latest position: a search that passes it as minLogId sees every write completed before now. */
  async lastLogId(): Promise<string> {
    const [last] = await this.redis.xrevrange(this.keys.changelog, '+', '-', 'COUNT', 1);
    return last ? last[0] : '0-0';
  }

  /** Every stored vector, in batches, for rebuilding an in-process index. */
  async *scanVectors(batchSize = 500): AsyncGenerator<StoredVector[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keys.turnPrefix}*`, 'COUNT', batchSize);
      cursor = next;
      const vectors = await this.loadVectors(keys);
      if (vectors.length > 0) yield vectors;
    } while (cursor !== '0');
  }

  /** Vectors, contents and filter fields of the given keys; keys that are gone are left out. */
  async loadVectors(keys: string[]): Promise<StoredVector[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hmgetBuffer(key, F.tenant, F.session, F.role, F.timestamp, F.embedding, F.content);
    const replies = (await pipeline.exec()) ?? [];
    const out: StoredVector[] = [];
    replies.forEach(([err, values], i) => {
      if (err) throw err;
      const [tenant, session, role, timestamp, embedding, content] = values as (Buffer | null)[];
      if (!tenant || !session || !role || !timestamp || !embedding || !content) return;
      out.push({
        key: keys[i],
        tenant: tenant.toString(),
        session: session.toString(),
        role: role.toString() as Role,
        timestamp: Number(timestamp.toString()),
        embedding: bufferToVector(embedding),
        content: content.toString(),
      });
    });
    return out;
  }

  private async turnsBySeq(tenant: string, session: string, seqs: string[]): Promise<StoredTurn[]> {
    const turns = await this.getTurns(seqs.map((s) => this.keys.turn(tenant, session, Number(s))));
    return turns.filter((t): t is StoredTurn => t !== null);
  }

  private hashFields(t: TurnWrite): (string | number | Buffer)[] {
    const fields: (string | number | Buffer)[] = [
      F.tenant, t.tenant,
      F.session, t.session,
      F.seq, t.seq,
      F.turnId, t.turnId,
      F.role, t.role,
      F.content, t.content,
      F.timestamp, t.timestamp,
      F.tokenCount, t.tokenCount,
      F.embedding, vectorToBuffer(t.embedding),
    ];
    if (t.metadata !== undefined) fields.push(F.metadata, JSON.stringify(t.metadata));
    return fields;
  }

  private parseTurn(key: string, values: (string | null)[]): StoredTurn | null {
    const [tenant, session, seq, turnId, role, content, timestamp, tokenCount, metadata] = values;
    if (tenant === null || session === null || content === null || !ROLES.includes(role as Role)) return null;
    return {
      key,
      tenant,
      session,
      seq: Number(seq),
      turnId: turnId ?? '',
      role: role as Role,
      content,
      timestamp: Number(timestamp),
      tokenCount: Number(tokenCount),
      ...(metadata ? { metadata: JSON.parse(metadata) as Record<string, unknown> } : {}),
    };
  }
}
