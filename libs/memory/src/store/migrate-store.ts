import type Redis from 'ioredis';
import { KeySchema, STORE_LAYOUT } from '../redis/key-schema';
import { scanKeys } from '../redis/scan-keys';
import { withStoreCommands } from './store-commands';
import { v1Changelog } from './store-layout';

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
  const scripted = withStoreCommands(redis);
  const seqKey = new RegExp(`^${sys}([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{1,64}):seq$`);
  for await (const batch of scanKeys(redis, `${sys}*:seq`)) {
    for (const key of batch) {
      const m = seqKey.exec(key);
      if (!m) continue;
      const [, tenant, session] = m;
      const old = `${sys}${tenant}:${session}:`;
      // One session at a time, atomically and idempotently (lua/migrate-session.lua).
      const turns = await scripted.memMigrateSession(
        `${old}seq`, `${old}forgotten`, `${old}turns`, `${old}ids`,
        keys.seq(tenant, session), keys.history(tenant, session), keys.turnIds(tenant, session), keys.meta(tenant, session),
        keys.sessions(tenant), keys.gens(tenant),
        `${keys.turnPrefix}${tenant}:${session}:turn:`, keys.sessionTurns(tenant, session), session, forgetTtlSeconds, Date.now(),
      );
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
