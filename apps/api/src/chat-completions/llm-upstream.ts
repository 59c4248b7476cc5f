import type { Provider } from '@nestjs/common';
import { createOpenAiClient, MemoryConfig } from '@app/memory';

/** The OpenAI SDK client of the configured LLM (LLM_PROVIDER), which the proxy forwards to; null with the offline responder. */
export const LLM_UPSTREAM = Symbol('LLM_UPSTREAM');

export const llmUpstreamProvider: Provider = {
  provide: LLM_UPSTREAM,
  inject: [MemoryConfig],
  useFactory: (c: MemoryConfig) => (c.LLM_PROVIDER === 'local' ? null : createOpenAiClient(c, c.LLM_PROVIDER, c.AZURE_OPENAI_CHAT_DEPLOYMENT)),
};
