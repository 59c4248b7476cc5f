import type Redis from 'ioredis';
import { compareStreamIds } from './stream-id';

export type ChangeLogEntry =
  | { id: string; op: 'add'; key: string }
  | { id: string; op: 'del'; tenant: string; session: string };

export interface ChangeLogRead {
  entries: ChangeLogEntry[];
  /** True when entries after the position were trimmed away (or the stream vanished): the reader must rebuild. */
  gap: boolean;
  /** Id of the last entry read (entries with an unknown op are skipped but still read). */
  last?: string;
}

/**
 * The repository for the change-log stream that in-process indexes follow.
 * Gap detection relies on XINFO STREAM's max-deleted-entry-id (Redis 7.0+).
 */
export class ChangeLogReader {
  /** XREAD BLOCK holds its connection, so it gets its own. */
  private readonly blocking: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {
    this.blocking = redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'agent-memory:changelog' });
  }

  /** The id of the newest entry ever added ('0-0' for no stream): a rebuild records it before scanning. */
  async lastId(): Promise<string> {
    try {
      return parseInfo(await this.redis.xinfo('STREAM', this.key))['last-generated-id'] ?? '0-0';
    } catch (err) {
      if (isNoSuchKey(err)) return '0-0';
      throw err;
    }
  }

  /** Up to `count` entries after `after`, read atomically with the stream's trim state. */
  async readAfter(after: string, count: number): Promise<ChangeLogRead> {
    const replies = await this.redis.multi().xrange(this.key, `(${after}`, '+', 'COUNT', count).xinfo('STREAM', this.key).exec();
    if (!replies) throw new Error('change-log read was aborted');
    const [[rangeErr, range], [infoErr, rawInfo]] = replies;
    if (rangeErr) throw rangeErr;
    if (infoErr && !isNoSuchKey(infoErr)) throw infoErr;
    const info = infoErr ? undefined : parseInfo(rawInfo);
    const maxDeleted = info?.['max-deleted-entry-id'];
    const gap = info === undefined ? after !== '0-0' : maxDeleted !== undefined && compareStreamIds(maxDeleted, after) > 0;
    const raw = range as [string, string[]][];
    return { gap, entries: raw.flatMap(([id, fields]) => parseEntry(id, fields)), last: raw.at(-1)?.[0] };
  }

  /** Waits up to `ms` for an entry after `after`. */
  async waitAfter(after: string, ms: number): Promise<void> {
    await this.blocking.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', this.key, after);
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

const isNoSuchKey = (err: unknown): boolean => /no such key/i.test((err as Error).message);

function parseEntry(id: string, fields: string[]): ChangeLogEntry[] {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  if (f.op === 'add' && f.key) return [{ id, op: 'add', key: f.key }];
  if (f.op === 'del' && f.tenant && f.session) return [{ id, op: 'del', tenant: f.tenant, session: f.session }];
  return [];
}
