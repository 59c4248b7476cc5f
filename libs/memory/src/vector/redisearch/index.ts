/** The RediSearch backend: Redis indexes the turn hashes itself and answers FT.SEARCH; nothing is held in process. */
export * from './redisearch-index';
