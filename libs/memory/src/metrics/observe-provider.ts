import type { ProviderName, RerankProviderName } from '../config/memory-config';
import { ProviderError } from '../errors/provider.error';
import type { ProviderKind } from './metric-names';
import type { Metrics } from './metrics';

/** One embedding or LLM call: timed, and counted by error kind when it fails. */
export async function observeProvider<T>(metrics: Metrics, kind: ProviderKind, provider: ProviderName | RerankProviderName, call: () => Promise<T>): Promise<T> {
  try {
    return await metrics.timeProvider(kind, provider, call);
  } catch (err) {
    metrics.countProviderError(kind, err instanceof ProviderError ? err.kind : 'bad_response');
    throw err;
  }
}
