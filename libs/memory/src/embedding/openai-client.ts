import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, AzureOpenAI, OpenAIError } from 'openai';
import type { MemoryConfig, ProviderName } from '../config/memory-config';
import { DimensionMismatchError } from '../errors/dimension-mismatch.error';
import { kindOfStatus, ProviderError, ProviderErrorKind } from '../errors/provider.error';

export type RemoteProviderName = Exclude<ProviderName, 'local'>;

/** Compatible servers (Ollama, vLLM, TEI) usually ignore the key, but the SDK insists on one. */
const PLACEHOLDER_KEY = 'not-needed';

/**
 * One SDK client per provider, built only from the config (explicit nulls stop the SDK from reading the environment itself).
 * Retries with backoff on 408/409/429/5xx and connection errors, honouring retry-after(-ms), and the per-attempt timeout
 * are the SDK's own (PROVIDER_MAX_RETRIES, PROVIDER_TIMEOUT_MS).
 */
export function createOpenAiClient(config: MemoryConfig, provider: RemoteProviderName, azureDeployment?: string): OpenAI {
  const common = { timeout: config.PROVIDER_TIMEOUT_MS, maxRetries: config.PROVIDER_MAX_RETRIES, organization: null, project: null };
  switch (provider) {
    case 'azure':
      return new AzureOpenAI({
        ...common,
        baseURL: null,
        apiKey: config.AZURE_OPENAI_API_KEY,
        endpoint: config.AZURE_OPENAI_ENDPOINT,
        apiVersion: config.AZURE_OPENAI_API_VERSION,
        deployment: azureDeployment,
      });
    case 'openai':
      return new OpenAI({ ...common, apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL ?? null });
    case 'openai-compatible':
      return new OpenAI({ ...common, apiKey: config.OPENAI_API_KEY ?? PLACEHOLDER_KEY, baseURL: config.OPENAI_BASE_URL });
  }
}

/**
 * Classifies what the SDK threw once its own retries were spent. Our own typed errors pass through;
 * anything that is not from the SDK or a response parse (a programming error) is returned unchanged.
 */
export function toProviderError(err: unknown, source: string): unknown {
  if (err instanceof ProviderError || err instanceof DimensionMismatchError) return err;
  const fail = (kind: ProviderErrorKind, status?: number) =>
    new ProviderError(kind, `${source} failed (${kind}${status ? ` ${status}` : ''}): ${(err as Error).message}`, status, { cause: err });
  if (err instanceof APIConnectionTimeoutError) return fail('timeout');
  if (err instanceof APIConnectionError) return fail('connection');
  if (err instanceof APIError) return fail(kindOfStatus(err.status), err.status);
  if (err instanceof OpenAIError) return fail('bad_response');
  // A body that is not valid JSON (e.g. a literal NaN) fails in fetch's Response.json(); matched by name because
  // that SyntaxError can belong to another realm (Node's bundled fetch under a vm-based runner).
  if ((err as Error | undefined)?.name === 'SyntaxError') return fail('bad_response');
  return err;
}
