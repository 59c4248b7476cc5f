import type { Provider } from '@nestjs/common';
import { MemoryConfig } from '../config/memory-config';
import { createEmbeddingProvider } from '../embedding/create-embedding-provider';
import { EMBEDDING_PROVIDER } from './tokens';

/** The configured embedder, for the embedder (turns) and the retriever (queries): both must embed alike. */
export const embeddingProvider: Provider = {
  provide: EMBEDDING_PROVIDER,
  inject: [MemoryConfig],
  useFactory: (c: MemoryConfig) => createEmbeddingProvider(c),
};
