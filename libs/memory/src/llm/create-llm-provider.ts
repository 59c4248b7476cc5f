import type { MemoryConfig } from '../config/memory-config';
import { createOpenAiClient } from '../embedding/openai-client';
import type { LlmProvider } from './llm-provider';
import { LocalResponder } from './local-responder';
import { OpenAiChat } from './openai-chat';
import { OpenAiStructured } from './openai-structured';
import type { StructuredLlm } from './structured-llm';

/** The provider LLM_PROVIDER names. */
export function createLlmProvider(config: MemoryConfig): LlmProvider {
  const provider = config.LLM_PROVIDER;
  if (provider === 'local') return new LocalResponder();
  return new OpenAiChat(provider, createOpenAiClient(config, provider, config.AZURE_OPENAI_CHAT_DEPLOYMENT), chatModel(config), config.PROVIDER_TIMEOUT_MS);
}

/** The extractor's LLM: the configured one, or undefined with the offline responder (extraction is then off). */
export function createStructuredLlm(config: MemoryConfig): StructuredLlm | undefined {
  const provider = config.LLM_PROVIDER;
  if (provider === 'local') return undefined;
  return new OpenAiStructured(provider, createOpenAiClient(config, provider, config.AZURE_OPENAI_CHAT_DEPLOYMENT), chatModel(config));
}

/** Azure routes by deployment; the model field is then only informative. */
const chatModel = (config: MemoryConfig): string =>
  config.LLM_PROVIDER === 'azure' ? (config.AZURE_OPENAI_CHAT_DEPLOYMENT ?? config.LLM_MODEL) : config.LLM_MODEL;
