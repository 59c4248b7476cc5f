/** Saving the in-process index to disk and loading it at start, so a retriever restarts without a rebuild from Redis. */
export * from './core-snapshots';
export * from './hnsw-snapshot-store';
