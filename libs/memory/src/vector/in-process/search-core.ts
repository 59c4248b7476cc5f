import type { StoredVector } from '../../store/memory-store';
import type { RankedKey, VectorQuery } from '../vector-index';
import type { VectorMirror } from './vector-mirror';

/** The in-memory part of the exact and hnsw backends: what the change-log follower feeds and searches query. */
export interface SearchCore {
  readonly size: number;
  /** The vectors and filter fields searched, and the briefs of the turns found. */
  readonly mirror: VectorMirror;
  /**
   * Makes a vector searchable at once. Throws DimensionMismatchError for a vector of the wrong length; an already
   * indexed key is a no-op. Costly indexing (the HNSW graph insert) may go on elsewhere meanwhile.
   */
  add(v: StoredVector): void;
  /** No indexing work is left over (see settle). */
  readonly settled: boolean;
  /** Resolves once the indexing work of every add so far is done. */
  settle(): Promise<void>;
  /** Stops what the core runs beside the caller (the HNSW graph thread); the core is not used after. */
  close(): Promise<void>;
  deleteSession(tenant: string, session: string): void;
  /** Forgets one vector; an unknown key is a no-op. */
  remove(key: string): void;
  /** Best first; the query has been validated. */
  search(q: VectorQuery): RankedKey[] | Promise<RankedKey[]>;
}
