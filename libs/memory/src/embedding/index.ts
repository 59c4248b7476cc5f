export * from './embedding-provider';
export * from './local-embedder';
export * from './openai-client';
export * from './openai-embedder';
export * from './create-embedding-provider';
export * from '../errors/provider.error';
