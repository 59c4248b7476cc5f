import { TURN_FIELDS as F } from '../store/turn';
import { vectorToBuffer } from '../store/vector-bytes';
import type { RankedKey, VectorQuery } from './vector-index';

/** Name the KNN distance is returned under. */
export const SCORE_FIELD = 'score';

/**
 * Escapes a value for use inside a TAG filter `{...}`: everything except letters, digits and `_` gets a backslash,
 * which covers RediSearch's separators and query syntax (, . < > { } [ ] " ' : ; ! @ # $ % ^ & * ( ) - + = ~ | / \ and space).
 */
export function escapeTag(value: string): string {
  return value.replace(/[^\p{L}\p{N}_]/gu, (c) => `\\${c}`);
}

/** The pre-filter of a hybrid KNN query: tenant always, then sessions, users, time window, roles and tags when given. */
export function buildFilter(q: Pick<VectorQuery, 'tenant' | 'sessions' | 'users' | 'since' | 'until' | 'roles' | 'tags'>): string {
  const anyOf = (field: string, values: string[]) => `@${field}:{${values.map(escapeTag).join('|')}}`;
  const parts = [anyOf(F.tenant, [q.tenant])];
  if (q.sessions) parts.push(anyOf(F.session, q.sessions));
  if (q.users) parts.push(anyOf(F.user, q.users));
  if (q.since !== undefined || q.until !== undefined) {
    parts.push(`@${F.timestamp}:[${q.since ?? '-inf'} ${q.until ?? '+inf'}]`);
  }
  if (q.roles) parts.push(anyOf(F.role, q.roles));
  if (q.tags) parts.push(anyOf(F.tags, q.tags));
  return `(${parts.join(' ')})`;
}

/** FT.SEARCH arguments (after the command name) for a filtered KNN query, DIALECT 2. */
export function buildSearchArgs(index: string, q: VectorQuery, efRuntime: number): (string | number | Buffer)[] {
  const query = `${buildFilter(q)}=>[KNN $k @${F.embedding} $vec EF_RUNTIME $ef AS ${SCORE_FIELD}]`;
  return [
    index, query,
    'PARAMS', 6, 'k', q.k, 'vec', vectorToBuffer(q.vector), 'ef', efRuntime,
    'RETURN', 1, SCORE_FIELD,
    'SORTBY', SCORE_FIELD, 'ASC',
    'LIMIT', 0, q.k,
    'DIALECT', 2,
  ];
}

/** Parses an FT.SEARCH RESP2 reply `[total, key, [field, value, ...], ...]`; similarity = 1 - cosine distance. */
export function parseSearchReply(reply: unknown): RankedKey[] {
  const flat = reply as unknown[];
  const out: RankedKey[] = [];
  for (let i = 1; i + 1 < flat.length; i += 2) {
    const fields = flat[i + 1] as string[];
    const at = fields.indexOf(SCORE_FIELD);
    if (at < 0 || at % 2 !== 0) continue;
    out.push({ key: String(flat[i]), similarity: 1 - Number(fields[at + 1]) });
  }
  return out;
}
