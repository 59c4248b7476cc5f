import { duplicateForBlocking, type RedisClient } from '../../redis/create-redis';

export type ChangeLogEntry =
  | { id: string; op: 'add' | 'rm'; key: string }
  | { id: string; op: 'del'; tenant: string; session: string };

/** A place in one partition's stream: the last entry covered and how many entries had been added up to it. */
export interface LogPosition {
  id: string;
  added: number;
}

export const START: LogPosition = { id: '0-0', added: 0 };

export interface ChangeLogRead {
  entries: ChangeLogEntry[];
  /**
   * Set when the stream no longer holds what the reader saw or must see: entries after the position were trimmed
   * away ('trimmed'), or the stream went back in time ('rolled_back': Redis lost acknowledged writes and may reuse
   * their keys). Either way the reader must rebuild.
   */
  gap?: 'trimmed' | 'rolled_back';
  /** The position after these entries (entries with an unknown op are skipped but still count). */
  next: LogPosition;
}

/**
 * The repository for one partition of the change log that in-process indexes follow.
 * Trimming (XADD MAXLEN ~) removes the oldest entries, and XINFO STREAM's entries-added minus length (Redis 7.0+)
 * counts them, so a reader knows exactly whether anything after its position was removed before it read it.
 * entries-added also tells a rollback: after reading, the stream must have added at least as many entries as the
 * reader has counted, since new entries get ids after any the reader has seen. This relies on nothing calling XDEL.
 */
export class ChangeLogReader {
  /** XREAD BLOCK holds its connection, so it gets its own. */
  private readonly blocking: RedisClient;

  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
  ) {
    this.blocking = duplicateForBlocking(redis, 'agent-memory:changelog');
  }

  /** The newest position (START for no stream): a rebuild records it before scanning. */
  async position(): Promise<LogPosition> {
    // ioredis does not see XINFO's key, so on a cluster it would go to any node: the EXISTS beside it routes both.
    const replies = await this.redis.multi().exists(this.key).xinfo('STREAM', this.key).exec();
    if (!replies) throw new Error('change-log position read was aborted');
    const [, [err, info]] = replies;
    if (err) {
      if (isNoSuchKey(err)) return START;
      throw err;
    }
    const fields = parseInfo(info);
    return { id: fields['last-generated-id'], added: Number(fields['entries-added']) };
  }

  /** Up to `count` entries after `after`, read atomically with the stream's trim state (XRANGE routes XINFO on a cluster). */
  async readAfter(after: LogPosition, count: number): Promise<ChangeLogRead> {
    const replies = await this.redis.multi().xrange(this.key, `(${after.id}`, '+', 'COUNT', count).xinfo('STREAM', this.key).exec();
    if (!replies) throw new Error('change-log read was aborted');
    const [[rangeErr, range], [infoErr, rawInfo]] = replies;
    if (rangeErr) throw rangeErr;
    if (infoErr && !isNoSuchKey(infoErr)) throw infoErr;
    const raw = range as [string, string[]][];
    const next = raw.length === 0 ? after : { id: raw[raw.length - 1][0], added: after.added + raw.length };
    return { gap: gapOf(after, next, infoErr ? undefined : parseInfo(rawInfo)), entries: raw.flatMap(([id, fields]) => parseEntry(id, fields)), next };
  }

  /** Resolves true once there is an entry after `after`, or false after `ms`. */
  async waitAfter(after: LogPosition, ms: number): Promise<boolean> {
    return (await this.blocking.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', this.key, after.id)) !== null;
  }

  close(): void {
    this.blocking.disconnect();
  }
}

function gapOf(after: LogPosition, next: LogPosition, info: Record<string, string> | undefined): ChangeLogRead['gap'] {
  // A stream that vanished (FLUSHALL, DEL, a restart without it) took whatever the reader had seen with it.
  if (!info) return after.added > 0 ? 'rolled_back' : undefined;
  const added = Number(info['entries-added']);
  if (Number.isNaN(added)) throw new Error('XINFO STREAM lacks entries-added: the hnsw and exact backends need Redis 7.0 or later');
  if (added < next.added) return 'rolled_back';
  return added - Number(info.length) > after.added ? 'trimmed' : undefined;
}

/** XINFO STREAM's scalar fields. */
function parseInfo(reply: unknown): Record<string, string> {
  const flat = reply as unknown[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (typeof flat[i + 1] === 'string' || typeof flat[i + 1] === 'number') out[String(flat[i])] = String(flat[i + 1]);
  }
  return out;
}

const isNoSuchKey = (err: unknown): boolean => /no such key/i.test((err as Error).message);

function parseEntry(id: string, fields: string[]): ChangeLogEntry[] {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  if ((f.op === 'add' || f.op === 'rm') && f.key) return [{ id, op: f.op, key: f.key }];
  if (f.op === 'del' && f.tenant && f.session) return [{ id, op: 'del', tenant: f.tenant, session: f.session }];
  return [];
}
