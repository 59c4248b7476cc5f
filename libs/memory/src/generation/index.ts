export * from './embedding-generation';
export * from './generation-store';
export * from './generation-watch';
export * from './generation-embedder';
export * from './reindex-control';
