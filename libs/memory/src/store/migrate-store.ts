import type Redis from 'ioredis';
import { KeySchema, STORE_LAYOUT } from '../redis/key-schema';
import { scanKeys } from '../redis/scan-keys';
import { v1Changelog } from './store-layout';

// Moves one layout-1 session to layout 2, atomically and idempotently (every rename checks its source): turn hashes,
// history, id map and seq counter get hash-tagged names, the session gets its meta and is listed in its tenant.
// A forgotten session (a counter, no turns) keeps only its counter, for FORGET_TTL_SECONDS.
const MIGRATE_SESSION = `
local seqs = redis.call('ZRANGE', KEYS[3], 0, -1)
local first, last
for _, s in ipairs(seqs) do
  local old = ARGV[1] .. s
  if redis.call('EXISTS', old) == 1 then
    local ts = tonumber(redis.call('HGET', old, 'timestamp'))
    if ts and (not first or ts < first) then first = ts end
    if ts and (not last or ts > last) then last = ts end
    redis.call('RENAME', old, ARGV[2] .. s)
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[6]) end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('RENAME', KEYS[4], KEYS[7]) end
local counter = redis.call('GET', KEYS[1])
if counter then redis.call('RENAME', KEYS[1], KEYS[5]) end
redis.call('DEL', KEYS[2])
if #seqs > 0 then
  redis.call('HSET', KEYS[8], 'created', first or ARGV[5])
  if first then redis.call('HSET', KEYS[8], 'first', first, 'last', last) end
  redis.call('ZADD', KEYS[9], 0, ARGV[3])
  redis.call('HSET', KEYS[10], ARGV[3], counter or '0')
elseif counter then
  redis.call('EXPIRE', KEYS[5], ARGV[4])
end
return #seqs
`;

export interface MigrationReport {
  from: number;
  sessions: number;
  turns: number;
  forgotten: number;
}

/**
 * Moves a single-node store of layout 1 (today's main before hash tags) to layout 2. Its queues must be empty: a
 * layout-1 job carries a seq that layout 2 never accepted, so it would be dropped. Running it twice is harmless.
 */
export async function migrateStore(redis: Redis, keys: KeySchema, forgetTtlSeconds: number): Promise<MigrationReport> {
  const report: MigrationReport = { from: Number((await redis.get(keys.layout)) ?? 1), sessions: 0, turns: 0, forgotten: 0 };
  if (report.from === STORE_LAYOUT) return report;
  const sys = `${keys.prefix}-sys:`;
  const seqKey = new RegExp(`^${sys}([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{1,64}):seq$`);
  for await (const batch of scanKeys(redis, `${sys}*:seq`)) {
    for (const key of batch) {
      const m = seqKey.exec(key);
      if (!m) continue;
      const [, tenant, session] = m;
      const old = `${sys}${tenant}:${session}:`;
      const turns = (await redis.eval(
        MIGRATE_SESSION,
        10,
        `${old}seq`, `${old}forgotten`, `${old}turns`, `${old}ids`,
        keys.seq(tenant, session), keys.history(tenant, session), keys.turnIds(tenant, session), keys.meta(tenant, session),
        keys.sessions(tenant), keys.gens(tenant),
        `${keys.turnPrefix}${tenant}:${session}:turn:`, keys.sessionTurns(tenant, session), session, forgetTtlSeconds, Date.now(),
      )) as number;
      if (turns > 0) report.sessions++;
      else report.forgotten++;
      report.turns += turns;
    }
  }
  for await (const batch of scanKeys(redis, `${sys}*:sessions`)) {
    const old = batch.filter((k) => !k.includes('{'));
    if (old.length > 0) await redis.del(...old);
  }
  await redis.del(v1Changelog(keys));
  // Layout 1's RediSearch index (if any) covered the same prefix; the new one has its own name and schema.
  await redis.call('FT.DROPINDEX', `${keys.prefix}-idx`).catch(() => undefined);
  await redis.set(keys.layout, STORE_LAYOUT);
  return report;
}
