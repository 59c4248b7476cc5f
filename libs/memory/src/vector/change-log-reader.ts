import type Redis from 'ioredis';

export type ChangeLogEntry =
  | { id: string; op: 'add'; key: string }
  | { id: string; op: 'del'; tenant: string; session: string };

/** A place in the stream: the last entry covered and how many entries had been added up to it. */
export interface LogPosition {
  id: string;
  added: number;
}

export interface ChangeLogRead {
  entries: ChangeLogEntry[];
  /** True when entries after the position were trimmed away: the reader must rebuild. */
  gap: boolean;
  /** The position after these entries (entries with an unknown op are skipped but still count). */
  next: LogPosition;
}

/**
 * The repository for the change-log stream that in-process indexes follow.
 * Trimming (XADD MAXLEN ~) removes the oldest entries, and XINFO STREAM's entries-added minus length (Redis 7.0+)
 * counts them, so a reader knows exactly whether anything after its position was removed before it read it.
 * This relies on nothing calling XDEL on the stream.
 */
export class ChangeLogReader {
  /** XREAD BLOCK holds its connection, so it gets its own. */
  private readonly blocking: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {
    // Without the request path's commandTimeout: XREAD BLOCK may wait longer than it.
    this.blocking = redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined, connectionName: 'agent-memory:changelog' });
  }

  /** The newest position ({id: '0-0', added: 0} for no stream): a rebuild records it before scanning. */
  async position(): Promise<LogPosition> {
    try {
      const info = parseInfo(await this.redis.xinfo('STREAM', this.key));
      return { id: info['last-generated-id'], added: Number(info['entries-added']) };
    } catch (err) {
      if (isNoSuchKey(err)) return { id: '0-0', added: 0 };
      throw err;
    }
  }

  /** Up to `count` entries after `after`, read atomically with the stream's trim state. */
  async readAfter(after: LogPosition, count: number): Promise<ChangeLogRead> {
    const replies = await this.redis.multi().xrange(this.key, `(${after.id}`, '+', 'COUNT', count).xinfo('STREAM', this.key).exec();
    if (!replies) throw new Error('change-log read was aborted');
    const [[rangeErr, range], [infoErr, rawInfo]] = replies;
    if (rangeErr) throw rangeErr;
    if (infoErr && !isNoSuchKey(infoErr)) throw infoErr;
    const raw = range as [string, string[]][];
    return {
      // A stream that vanished after we read from it (FLUSHALL, DEL) took entries with it too.
      gap: infoErr ? after.added > 0 : removedCount(parseInfo(rawInfo)) > after.added,
      entries: raw.flatMap(([id, fields]) => parseEntry(id, fields)),
      next: raw.length === 0 ? after : { id: raw[raw.length - 1][0], added: after.added + raw.length },
    };
  }

  /** Waits up to `ms` for an entry after `after`. */
  async waitAfter(after: LogPosition, ms: number): Promise<void> {
    await this.blocking.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', this.key, after.id);
  }

  close(): void {
    this.blocking.disconnect();
  }
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

/** How many of the stream's entries were trimmed away. */
function removedCount(info: Record<string, string>): number {
  const removed = Number(info['entries-added']) - Number(info.length);
  if (Number.isNaN(removed)) throw new Error('XINFO STREAM lacks entries-added: the hnsw and exact backends need Redis 7.0 or later');
  return removed;
}

const isNoSuchKey = (err: unknown): boolean => /no such key/i.test((err as Error).message);

function parseEntry(id: string, fields: string[]): ChangeLogEntry[] {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  if (f.op === 'add' && f.key) return [{ id, op: 'add', key: f.key }];
  if (f.op === 'del' && f.tenant && f.session) return [{ id, op: 'del', tenant: f.tenant, session: f.session }];
  return [];
}
