import type { ProviderName } from '../config/memory-config';

/** A JSON answer as the LLM gave it (parsed, not yet validated: the caller's schema does that) and its token usage. */
export interface StructuredReply {
  value: unknown;
  usage: { prompt: number; completion: number };
}

/** An LLM asked for answers in a JSON schema (the extractor's calls). */
export interface StructuredLlm {
  readonly name: Exclude<ProviderName, 'local'>;
  readonly label: string;
  /**
   * Sends the instructions and the input, asking for an answer in `schema` (strict structured output). Throws
   * ProviderError: retryable for a failed call, bad_response (permanent) for an answer that is not JSON.
   */
  ask(instructions: string, input: string, schemaName: string, schema: Record<string, unknown>): Promise<StructuredReply>;
}
