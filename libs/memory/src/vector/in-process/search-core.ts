import type { StoredVector } from '../../store/memory-store';
import type { RankedKey, VectorQuery } from '../vector-index';

/** The in-memory part of the exact and hnsw backends: what the change-log follower feeds and searches query. */
export interface SearchCore {
  readonly size: number;
  /** Throws DimensionMismatchError for a vector of the wrong length; an already indexed key is a no-op. */
  add(v: StoredVector): void;
  deleteSession(tenant: string, session: string): void;
  /** Forgets one vector; an unknown key is a no-op. */
  remove(key: string): void;
  /** Best first; the query has been validated. */
  search(q: VectorQuery): RankedKey[];
}
