import { SearchReplyError } from '../../errors/search-reply.error';
import { TURN_FIELDS as F } from '../../store/turn';
import { BRIEF_FIELDS, parseBrief } from '../../store/turn-hash';
import { vectorToBuffer } from '../../store/vector-bytes';
import { queryWords } from '../text-terms';
import type { VectorHit, VectorQuery } from '../vector-index';

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
 * The full-text clause: any of the query's words in `content` or (at the field's lower WEIGHT) `context`. The text is cut into runs of letters and digits
 * (stop words dropped, as in the in-process index), so no operator, quote, prefix, fuzzy or attribute syntax can
 * reach the query; each word is escaped besides. Undefined when no searchable word is left.
 */
export function textClause(text: string): string | undefined {
  const terms = queryWords(text).map(escapeTag);
  return terms.length === 0 ? undefined : `@${F.content}|${F.context}:(${terms.join('|')})`;
}

/** RETURN's arguments: the fields of the turn's brief alone (its content, metadata and embedding are not sent). */
const returnFields = (...extra: string[]) => ['RETURN', extra.length + BRIEF_FIELDS.length, ...extra, ...BRIEF_FIELDS];

/** FT.SEARCH arguments (after the command name) for the k nearest vectors that pass the filter, with their briefs, DIALECT 2. */
export function buildKnnArgs(index: string, q: VectorQuery, k: number, efRuntime: number, timeoutMs: number): (string | number | Buffer)[] {
  const query = `${buildFilter(q)}=>[KNN $k @${F.embedding} $vec EF_RUNTIME $ef AS ${SCORE_FIELD}]`;
  return [
    index, query,
    'PARAMS', 6, 'k', k, 'vec', vectorToBuffer(q.vector!), 'ef', efRuntime,
    ...returnFields(SCORE_FIELD),
    'SORTBY', SCORE_FIELD, 'ASC',
    'LIMIT', 0, k,
    'TIMEOUT', timeoutMs,
    'DIALECT', 2,
  ];
}

/** FT.SEARCH arguments for the k best BM25 matches of the query's words that pass the filter, with their briefs; undefined without words. */
export function buildTextArgs(index: string, q: VectorQuery, k: number, timeoutMs: number): (string | number)[] | undefined {
  const clause = textClause(q.text ?? '');
  if (!clause) return undefined;
  return [index, `${buildFilter(q)} ${clause}`, 'WITHSCORES', ...returnFields(), 'SCORER', 'BM25', 'LIMIT', 0, k, 'TIMEOUT', timeoutMs, 'DIALECT', 2];
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

/** A result's RESP2 field list `[name, value, ...]` as a map; a document deleted while the query ran has none (null). */
function fieldMap(reply: unknown, fields: unknown): Map<string, string> | undefined {
  if (fields === null) return undefined;
  if (!Array.isArray(fields) || fields.length % 2 !== 0) malformed(reply, 'a result whose fields are not name-value pairs');
  const map = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]));
  return map;
}

const briefIn = (fields: Map<string, string>) => parseBrief(BRIEF_FIELDS.map((f) => fields.get(f) ?? null));

/** Parses a KNN reply `[total, key, [score, d, field, value, ...], ...]` (RESP2); similarity = 1 - cosine distance. */
export function parseKnnReply(reply: unknown): VectorHit[] {
  const rest = results(reply, 2);
  const out: VectorHit[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i];
    if (key === null) continue; // deleted while the query ran
    if (typeof key !== 'string') malformed(reply, 'a result that is not a key and its fields');
    const fields = fieldMap(reply, rest[i + 1]);
    if (!fields) continue;
    const distance = Number(fields.get(SCORE_FIELD) ?? NaN);
    if (!Number.isFinite(distance)) malformed(reply, `a result without a numeric ${SCORE_FIELD}`);
    const brief = briefIn(fields);
    if (brief) out.push({ key, similarity: 1 - distance, brief });
  }
  return out;
}

/** Parses a WITHSCORES reply `[total, key, score, [field, value, ...], ...]`; similarity = the BM25 score. */
export function parseTextReply(reply: unknown): VectorHit[] {
  const rest = results(reply, 3);
  const out: VectorHit[] = [];
  for (let i = 0; i < rest.length; i += 3) {
    const [key, rawScore] = [rest[i], rest[i + 1]];
    if (key === null) continue; // deleted while the query ran
    const score = Number(rawScore);
    if (typeof key !== 'string' || typeof rawScore !== 'string' || !Number.isFinite(score)) malformed(reply, 'a result that is not a key, a score and fields');
    const fields = fieldMap(reply, rest[i + 2]);
    const brief = fields && briefIn(fields);
    if (brief) out.push({ key, similarity: score, brief });
  }
  return out;
}
