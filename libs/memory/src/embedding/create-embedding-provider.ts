import type { MemoryConfig } from '../config/memory-config';
import type { EmbeddingProvider } from './embedding-provider';
import { LocalEmbedder } from './local-embedder';
import { WORD_VECTOR_DIM, WordVectors } from './word-vectors';
import { createOpenAiClient } from './openai-client';
import { OpenAiEmbedder } from './openai-embedder';

/**
 * The provider EMBEDDING_PROVIDER names; every one checks its vectors against EMBEDDING_DIM. The local embedder is the
 * word vectors alone at their own dimension (100), mixes them in when EMBEDDING_DIM leaves the lexical part at least
 * as many dimensions as they take (>= 200), and is lexical only otherwise.
 */
export function createEmbeddingProvider(config: MemoryConfig): EmbeddingProvider {
  const provider = config.EMBEDDING_PROVIDER;
  if (provider === 'local') {
    const dim = config.EMBEDDING_DIM;
    return new LocalEmbedder(dim, dim === WORD_VECTOR_DIM || dim >= 2 * WORD_VECTOR_DIM ? WordVectors.load() : undefined);
  }
  // Azure routes by deployment; the model field is then only informative.
  const model = provider === 'azure' ? (config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT ?? config.EMBEDDING_MODEL) : config.EMBEDDING_MODEL;
  const client = createOpenAiClient(config, provider, config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT);
  return new OpenAiEmbedder(provider, client, model, config.EMBEDDING_DIM);
}
