import type { RedisClient } from '../redis/create-redis';
import type { KeySchema } from '../redis/key-schema';
import { type StoreCommands, withStoreCommands } from './store-commands';

/** One version of a session's rolling summary: it folds in the version before it, so it covers fromSeq..toSeq. */
export interface SummaryVersion {
  text: string;
  /** The first and last seq of the turns the summary covers (a forgotten turn in between is not in it). */
  fromSeq: number;
  toSeq: number;
  /** The first seq of the turns this version added to the one before it, and how many turns that was. */
  addedFromSeq: number;
  addedTurns: number;
  /** When the version was written (epoch ms). */
  createdAt: number;
}

export type SummaryWrite = { written: true } | { written: false; reason: 'watermark moved' | 'turn forgotten' };

/**
 * The repository of sessions' rolling summaries: a list of versions per session, newest first, and the session's
 * summary watermark, written together by lua/write-summary.lua. Forgetting goes through the turn scripts
 * (lua/delete-session.lua, lua/delete-turn.lua), which remove the versions that covered what they forget.
 */
export class SessionSummaryRepository {
  private readonly redis: RedisClient & StoreCommands;

  constructor(
    redis: RedisClient,
    private readonly keys: KeySchema,
    /** Versions kept per session; older ones are trimmed. */
    private readonly maxVersions = 20,
  ) {
    this.redis = withStoreCommands(redis);
  }

  /** The seq up to which the session's turns are summarised (0: none yet). */
  async watermark(tenant: string, session: string): Promise<number> {
    return Number((await this.redis.get(this.keys.summarised(tenant, session))) ?? 0);
  }

  async current(tenant: string, session: string): Promise<SummaryVersion | undefined> {
    const head = await this.redis.lindex(this.keys.summaries(tenant, session), 0);
    return head === null ? undefined : (JSON.parse(head) as SummaryVersion);
  }

  /** The versions kept (at most maxVersions), newest first. */
  async versions(tenant: string, session: string): Promise<SummaryVersion[]> {
    return (await this.redis.lrange(this.keys.summaries(tenant, session), 0, -1)).map((v) => JSON.parse(v) as SummaryVersion);
  }

  /** Stores `version` and moves the watermark from `expected` to its toSeq, if neither the watermark nor its turns changed. */
  async write(tenant: string, session: string, expected: number, version: SummaryVersion): Promise<SummaryWrite> {
    const code = await this.redis.memWriteSummary(
      this.keys.summarised(tenant, session),
      this.keys.summaries(tenant, session),
      this.keys.history(tenant, session),
      expected,
      version.addedFromSeq,
      version.toSeq,
      version.addedTurns,
      JSON.stringify(version),
      this.maxVersions,
    );
    if (code === 1) return { written: true };
    return { written: false, reason: code === -1 ? 'watermark moved' : 'turn forgotten' };
  }
}
