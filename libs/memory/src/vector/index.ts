/** The vector index every backend implements (interface, factory, query checks, fusion, text terms); backends below. */
export * from './vector-index';
export * from './create-vector-index';
export * from './fusion';
export * from './load-turns';
export * from './change-log';
export * from './in-process';
export * from './redisearch';
export * from './snapshots';
export * from '../errors/index-schema-mismatch.error';
export * from '../errors/index-lag.error';
export * from '../errors/search-reply.error';
export * from './generational-vector-index';
