import type { MemoryConfig } from '../config/memory-config';
import type { EmbeddingProvider } from './embedding-provider';
import { LocalEmbedder } from './local-embedder';
import { createOpenAiClient } from './openai-client';
import { OpenAiEmbedder } from './openai-embedder';

/** The provider EMBEDDING_PROVIDER names; every one checks its vectors against EMBEDDING_DIM. */
export function createEmbeddingProvider(config: MemoryConfig): EmbeddingProvider {
  const provider = config.EMBEDDING_PROVIDER;
  if (provider === 'local') return new LocalEmbedder(config.EMBEDDING_DIM);
  // Azure routes by deployment; the model field is then only informative.
  const model = provider === 'azure' ? (config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT ?? config.EMBEDDING_MODEL) : config.EMBEDDING_MODEL;
  const client = createOpenAiClient(config, provider, config.AZURE_OPENAI_EMBEDDING_DEPLOYMENT);
  return new OpenAiEmbedder(provider, client, model, config.EMBEDDING_DIM);
}
