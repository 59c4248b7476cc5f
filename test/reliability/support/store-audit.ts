import { KeySchema } from '@app/memory/redis/key-schema';
import { connectRedis, type RedisClient, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { scanKeys } from '@app/memory/redis/scan-keys';
import { TURN_FIELDS } from '@app/memory/store/turn';
import { bufferToVector } from '@app/memory/store/vector-bytes';
import { type RedisTarget, targetEnv } from '../../support/test-redis';

export interface SessionAudit {
  tenant: string;
  session: string;
  /** ZCARD of the history. */
  total: number;
  /** The turn ids stored in the session's turn hashes. */
  turnIds: string[];
  /** Turn ids accepted and not stored: once the queue is drained, turns whose job was lost (a failover). */
  pending: string[];
}

export interface StoreAudit {
  /** Keyed by `tenant/session`. */
  sessions: Map<string, SessionAudit>;
  /** Every broken invariant, in words; empty when the store is consistent. */
  problems: string[];
  turnHashes: number;
}

const REQUIRED = [TURN_FIELDS.tenant, TURN_FIELDS.session, TURN_FIELDS.seq, TURN_FIELDS.turnId, TURN_FIELDS.role, TURN_FIELDS.content, TURN_FIELDS.timestamp, TURN_FIELDS.tokenCount, TURN_FIELDS.embedding];

async function scanAll(redis: RedisClient, match: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of scanKeys(redis, match, 1000)) keys.push(...batch);
  return keys;
}

/**
 * Reads the whole store of a private Redis (every master of a cluster) and checks its invariants: for every
 * session, history ZCARD == turn id map size == number of turn hashes; each turn id maps to its own seq; every turn
 * hash has every field and a vector of `dim` finite floats; no turn hash lies outside a known session.
 */
export async function auditStore(target: RedisTarget, dim: number, prefix = 'mem'): Promise<StoreAudit> {
  const redis = connectRedis(redisEndpoint({ REDIS_URL: '', ...targetEnv(target) }), { maxRetriesPerRequest: 1 });
  const keys = new KeySchema(prefix);
  const problems: string[] = [];
  const sessions = new Map<string, SessionAudit>();
  try {
    const turnKeys = await scanAll(redis, `${keys.turnPrefix}*`);
    const bySession = new Map<string, string[]>();
    for (const key of turnKeys) {
      const parsed = keys.parseTurnKey(key);
      if (!parsed) {
        problems.push(`${key}: not a turn key of this layout`);
        continue;
      }
      const name = `${parsed.tenant}/${parsed.session}`;
      bySession.set(name, [...(bySession.get(name) ?? []), key]);
    }
    for (const setKey of await scanAll(redis, `${prefix}-sys:{*}:sessions`)) {
      const tenant = setKey.slice(`${prefix}-sys:{`.length, -'}:sessions'.length);
      for (const session of await redis.zrange(setKey, 0, -1)) {
        const name = `${tenant}/${session}`;
        const hashes = bySession.get(name) ?? [];
        bySession.delete(name);
        sessions.set(name, await auditSession(redis, keys, tenant, session, hashes, dim, problems));
      }
    }
    for (const [name, orphans] of bySession) problems.push(`${name}: ${orphans.length} turn hashes outside any known session`);
    return { sessions, problems, turnHashes: turnKeys.length };
  } finally {
    redis.disconnect();
  }
}

async function auditSession(redis: RedisClient, keys: KeySchema, tenant: string, session: string, hashes: string[], dim: number, problems: string[]): Promise<SessionAudit> {
  const name = `${tenant}/${session}`;
  const [history, ids, pending] = await Promise.all([
    redis.zrange(keys.history(tenant, session), 0, -1),
    redis.hgetall(keys.turnIds(tenant, session)),
    redis.hgetall(keys.pending(tenant, session)),
  ]);
  const idCount = Object.keys(ids).length;
  if (history.length !== hashes.length || idCount !== hashes.length) {
    problems.push(`${name}: history ZCARD ${history.length}, id map ${idCount}, turn hashes ${hashes.length} differ`);
  }
  const seqsOfIds = new Set(Object.values(ids));
  if (seqsOfIds.size !== idCount) problems.push(`${name}: ${idCount - seqsOfIds.size} turn ids share a seq with another id`);
  const inHistory = new Set(history);
  const turnIds: string[] = [];
  for (const key of hashes) {
    const values = await redis.hmgetBuffer(key, ...REQUIRED);
    const missing = REQUIRED.filter((_, i) => values[i] === null);
    if (missing.length > 0) {
      problems.push(`${key}: missing fields ${missing.join(', ')}`);
      continue;
    }
    const [t, s, seq, turnId, , , , , embedding] = values.map((v) => v as Buffer);
    if (t.toString() !== tenant || s.toString() !== session) problems.push(`${key}: tenant/session fields ${t}/${s} do not match the key`);
    if (!key.endsWith(`:turn:${seq.toString()}`)) problems.push(`${key}: seq field ${seq} does not match the key`);
    if (!inHistory.has(seq.toString())) problems.push(`${key}: seq ${seq} is not in the history`);
    // An own key only: a turn id such as "constructor" or "valueOf" is inherited by every object.
    if (Object.hasOwn(pending, turnId.toString())) problems.push(`${key}: ${turnId} is both stored and still pending`);
    if (ids[turnId.toString()] !== seq.toString()) problems.push(`${key}: id map says ${turnId} -> ${ids[turnId.toString()]}, hash says ${seq}`);
    const vector = embedding.byteLength % 4 === 0 ? bufferToVector(embedding) : new Float32Array(0);
    if (vector.length !== dim || !vector.every(Number.isFinite)) problems.push(`${key}: vector of ${embedding.byteLength} bytes (want ${dim} finite FLOAT32)`);
    turnIds.push(turnId.toString());
  }
  if (new Set(turnIds).size !== turnIds.length) problems.push(`${name}: a turn id is stored more than once`);
  return { tenant, session, total: history.length, turnIds, pending: Object.keys(pending) };
}
