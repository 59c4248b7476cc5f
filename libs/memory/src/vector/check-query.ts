import { DimensionMismatchError } from '../errors/dimension-mismatch.error';
import { InvalidInputError } from '../errors/invalid-input.error';
import { assertId } from '../redis/key-schema';
import { MEMORY_KINDS, ROLES, TAG_PATTERN } from '../store/turn';
import { STREAM_ID } from './change-log/stream-id';
import { SEARCH_MODES, type VectorQuery } from './vector-index';

/**
 * Validates a query the same way for every backend; throws a typed error on bad input.
 * Returns false when the query can match nothing (an empty filter list), so callers skip the search.
 */
export function checkQuery(q: VectorQuery, dim: number): boolean {
  assertId('tenant', q.tenant);
  q.sessions?.forEach((s) => assertId('session', s));
  if (!Number.isInteger(q.k) || q.k < 1) throw new InvalidInputError('k must be a positive integer');
  for (const [name, value] of [['since', q.since], ['until', q.until]] as const) {
    if (value !== undefined && !Number.isFinite(value)) throw new InvalidInputError(`${name} must be a finite epoch-ms number`);
  }
  q.users?.forEach((u) => assertId('user', u));
  if (q.roles?.some((r) => !ROLES.includes(r))) throw new InvalidInputError(`roles must be among ${ROLES.join(', ')}`);
  if (q.tags?.some((t) => !TAG_PATTERN.test(t))) throw new InvalidInputError(`tags must match ${TAG_PATTERN.source}`);
  if (q.kinds?.some((k) => !MEMORY_KINDS.includes(k))) throw new InvalidInputError(`kinds must be among ${MEMORY_KINDS.join(', ')}`);
  if (q.efRuntime !== undefined && (!Number.isInteger(q.efRuntime) || q.efRuntime < 1)) {
    throw new InvalidInputError('efRuntime must be a positive integer');
  }
  for (const [partition, id] of Object.entries(q.minLogIds ?? {})) {
    if (!/^\d{1,4}$/.test(partition) || !STREAM_ID.test(id)) throw new InvalidInputError('minLogIds must map partition numbers to stream ids like 1700000000000-0');
  }
  const mode = q.mode ?? 'hybrid';
  if (!SEARCH_MODES.includes(mode)) throw new InvalidInputError(`mode must be one of ${SEARCH_MODES.join(', ')}`);
  if (mode !== 'vector' && typeof q.text !== 'string') throw new InvalidInputError(`the ${mode} mode needs the query text`);
  if (mode !== 'text') {
    if (!(q.vector instanceof Float32Array)) throw new InvalidInputError('vector must be a Float32Array');
    if (q.vector.length !== dim) throw new DimensionMismatchError(dim, q.vector.length, 'The search query');
  }
  return [q.sessions, q.users, q.roles, q.tags, q.kinds].every((list) => list === undefined || list.length > 0);
}
