/** The hnsw and exact backends: the retriever's in-memory index (vectors, graph, full text), fed by the change log. */
export * from './search-core';
export * from './vector-mirror';
export * from './exact-index';
export * from './hnsw-index';
export * from './mirrored-vector-index';
