import type { MemoryConfig } from '../config/memory-config';
import { createOpenAiClient } from '../embedding/openai-client';
import type { LlmProvider } from './llm-provider';
import { LocalResponder } from './local-responder';
import { OpenAiChat } from './openai-chat';

/** The provider LLM_PROVIDER names. */
export function createLlmProvider(config: MemoryConfig): LlmProvider {
  const provider = config.LLM_PROVIDER;
  if (provider === 'local') return new LocalResponder();
  // Azure routes by deployment; the model field is then only informative.
  const model = provider === 'azure' ? (config.AZURE_OPENAI_CHAT_DEPLOYMENT ?? config.LLM_MODEL) : config.LLM_MODEL;
  const client = createOpenAiClient(config, provider, config.AZURE_OPENAI_CHAT_DEPLOYMENT);
  return new OpenAiChat(provider, client, model, config.PROVIDER_TIMEOUT_MS);
}
