import type { MemoryConfig } from '../config/memory-config';
import type { GenerationSpec } from '../generation/embedding-generation';
import type { EmbeddingProvider } from './embedding-provider';
import { LocalEmbedder } from './local-embedder';
import { WORD_VECTOR_DIM, WordVectors } from './word-vectors';
import { createOpenAiClient } from './openai-client';
import { OpenAiEmbedder } from './openai-embedder';

/**
 * The provider of an embedding generation (by default the configured one: EMBEDDING_PROVIDER, EMBEDDING_MODEL,
 * EMBEDDING_DIM); credentials and endpoints always come from the config. Every one checks its vectors against the
 * dimension. The local embedder is the word vectors alone at their own dimension (100), mixes them in when the
 * dimension leaves the lexical part at least as many dimensions as they take (>= 200), and is lexical only otherwise.
 */
export function createEmbeddingProvider(config: MemoryConfig, spec?: GenerationSpec): EmbeddingProvider {
  const provider = spec?.provider ?? config.EMBEDDING_PROVIDER;
  const dim = spec?.dim ?? config.EMBEDDING_DIM;
  if (provider === 'local') {
    return new LocalEmbedder(dim, dim === WORD_VECTOR_DIM || dim >= 2 * WORD_VECTOR_DIM ? WordVectors.load() : undefined);
  }
  // Azure routes by deployment; the model field is then only informative.
  const model = spec?.model ?? (provider === 'azure' ? (config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT ?? config.EMBEDDING_MODEL) : config.EMBEDDING_MODEL);
  const client = createOpenAiClient(config, provider, provider === 'azure' ? model : config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT);
  return new OpenAiEmbedder(provider, client, model, dim);
}
