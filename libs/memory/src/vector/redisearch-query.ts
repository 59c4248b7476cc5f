import { SearchReplyError } from '../errors/search-reply.error';
import { TURN_FIELDS as F } from '../store/turn';
import { vectorToBuffer } from '../store/vector-bytes';
import { queryWords } from './text-terms';
import type { RankedKey, VectorQuery } from './vector-index';

/** Name the KNN distance is returned under. */
export const SCORE_FIELD = 'score';

/**
 * Escapes a value for use inside a TAG filter `{...}` or as a text term: everything except letters, digits and `_`
 * gets a backslash, which covers RediSearch's separators and query syntax
 * (, . < > { } [ ] " ' : ; ! @ # $ % ^ & * ( ) - + = ~ | / \ and space).
 */
export function escapeTag(value: string): string {
  return value.replace(/[^\p{L}\p{N}_]/gu, (c) => `\\${c}`);
}

/**
 * The filter every query of this service carries: tenant always, then sessions, users, time window, roles, tags and kinds
 * when given. The one place filters are written, for KNN and full-text queries alike.
 */
export function buildFilter(q: Pick<VectorQuery, 'tenant' | 'sessions' | 'users' | 'since' | 'until' | 'roles' | 'tags' | 'kinds'>): string {
  const anyOf = (field: string, values: string[]) => `@${field}:{${values.map(escapeTag).join('|')}}`;
  const parts = [anyOf(F.tenant, [q.tenant])];
  if (q.sessions) parts.push(anyOf(F.session, q.sessions));
  if (q.users) parts.push(anyOf(F.user, q.users));
  if (q.since !== undefined || q.until !== undefined) {
    parts.push(`@${F.timestamp}:[${q.since ?? '-inf'} ${q.until ?? '+inf'}]`);
  }
  if (q.roles) parts.push(anyOf(F.role, q.roles));
  if (q.tags) parts.push(anyOf(F.tags, q.tags));
  // Only memories carry a kind, so turns are "not a memory": turns stored before memories existed match too.
  if (q.kinds && !q.kinds.includes('turn')) parts.push(anyOf(F.kind, ['memory']));
  if (q.kinds && !q.kinds.includes('memory')) parts.push(`-${anyOf(F.kind, ['memory'])}`);
  return `(${parts.join(' ')})`;
}

/**
 * The full-text clause: any of the query's words in `content`. The text is cut into runs of letters and digits
 * (stop words dropped, as in the in-process index), so no operator, quote, prefix, fuzzy or attribute syntax can
 * reach the query; each word is escaped besides. Undefined when no searchable word is left.
 */
export function textClause(text: string): string | undefined {
  const terms = queryWords(text).map(escapeTag);
  return terms.length === 0 ? undefined : `@${F.content}:(${terms.join('|')})`;
}

/** FT.SEARCH arguments (after the command name) for the k nearest vectors that pass the filter, DIALECT 2. */
export function buildKnnArgs(index: string, q: VectorQuery, k: number, efRuntime: number, timeoutMs: number): (string | number | Buffer)[] {
  const query = `${buildFilter(q)}=>[KNN $k @${F.embedding} $vec EF_RUNTIME $ef AS ${SCORE_FIELD}]`;
  return [
    index, query,
    'PARAMS', 6, 'k', k, 'vec', vectorToBuffer(q.vector!), 'ef', efRuntime,
    'RETURN', 1, SCORE_FIELD,
    'SORTBY', SCORE_FIELD, 'ASC',
    'LIMIT', 0, k,
    'TIMEOUT', timeoutMs,
    'DIALECT', 2,
  ];
}

/** FT.SEARCH arguments for the k best BM25 matches of the query's words that pass the filter; undefined without words. */
export function buildTextArgs(index: string, q: VectorQuery, k: number, timeoutMs: number): (string | number)[] | undefined {
  const clause = textClause(q.text ?? '');
  if (!clause) return undefined;
  return [index, `${buildFilter(q)} ${clause}`, 'NOCONTENT', 'WITHSCORES', 'SCORER', 'BM25', 'LIMIT', 0, k, 'TIMEOUT', timeoutMs, 'DIALECT', 2];
}

/**
 * Checks that a reply is an integer count followed by `width`-element results: anything else (ON_TIMEOUT FAIL's
 * ["Timeout limit was reached"], an error string, a truncated array) is a SearchReplyError, never "no hits".
 */
function results(reply: unknown, width: number): unknown[] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || (reply.length - 1) % width !== 0) {
    const text = JSON.stringify(reply)?.slice(0, 200) ?? String(reply);
    throw new SearchReplyError(/timeout/i.test(text) ? 'timeout' : 'malformed', text);
  }
  return reply.slice(1);
}

function malformed(reply: unknown, what: string): never {
  throw new SearchReplyError('malformed', `${what} in ${JSON.stringify(reply).slice(0, 200)}`);
}

/** Parses a KNN reply `[total, key, [score, d], ...]` (RESP2); similarity = 1 - cosine distance. */
export function parseKnnReply(reply: unknown): RankedKey[] {
  const rest = results(reply, 2);
  const out: RankedKey[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const [key, fields] = [rest[i], rest[i + 1]];
    if (key === null) continue; // deleted while the query ran
    if (typeof key !== 'string' || !Array.isArray(fields)) malformed(reply, 'a result that is not a key and its fields');
    const at = fields.indexOf(SCORE_FIELD);
    const distance = at >= 0 && at % 2 === 0 ? Number(fields[at + 1]) : NaN;
    if (!Number.isFinite(distance)) malformed(reply, `a result without a numeric ${SCORE_FIELD}`);
    out.push({ key, similarity: 1 - distance });
  }
  return out;
}

/** Parses a NOCONTENT WITHSCORES reply `[total, key, score, ...]`; similarity = the BM25 score. */
export function parseTextReply(reply: unknown): RankedKey[] {
  const rest = results(reply, 2);
  const out: RankedKey[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const score = Number(rest[i + 1]);
    if (rest[i] === null) continue; // deleted while the query ran
    if (typeof rest[i] !== 'string' || typeof rest[i + 1] !== 'string' || !Number.isFinite(score)) malformed(reply, 'a result that is not a key and a score');
    out.push({ key: rest[i] as string, similarity: score });
  }
  return out;
}
