import { Injectable, Logger } from '@nestjs/common';
import { MemoryConfig, Metrics } from '@app/memory';
import { kindOfStatus, ProviderError } from '@app/memory/errors/provider.error';
import { observeProvider } from '@app/memory/metrics/observe-provider';

/**
 * The optional reranker model over HTTP (RERANK_PROVIDER): text-embeddings-inference's `POST /rerank`
 * (`{query, texts}` → `[{index, score}]`) or the Cohere/Jina-style `POST /v1/rerank` (`{model, query, documents,
 * top_n}` → `{results: [{index, relevance_score}]}`). A search must never fail because the model did: any failure
 * (status, timeout, connection, a reply that does not score every text) is counted in
 * agent_memory_provider_errors_total{provider_kind="rerank"} and answers undefined, and the search re-ranks offline.
 */
@Injectable()
export class HttpReranker {
  private readonly logger = new Logger(HttpReranker.name);
  /** Logs the first failure of a run of them, not every search's. */
  private failing = false;

  constructor(
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
  ) {}

  /** The model's score of each text for the query, in the texts' order; undefined when off, given no text, or failed. */
  async score(query: string, texts: string[]): Promise<number[] | undefined> {
    const provider = this.config.RERANK_PROVIDER;
    if (provider === 'none' || texts.length === 0) return undefined;
    try {
      const size = this.config.RERANK_BATCH_SIZE;
      const batches = Array.from({ length: Math.ceil(texts.length / size) }, (_, i) => texts.slice(i * size, (i + 1) * size));
      const scores = await observeProvider(this.metrics, 'rerank', provider, async () => (await Promise.all(batches.map((b) => this.call(query, b)))).flat());
      this.failing = false;
      return scores;
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (!this.failing) this.logger.warn(`${err.message}; re-ranking offline until it answers`);
      this.failing = true;
      return undefined;
    }
  }

  /** One request; the scores in the texts' order. */
  private async call(query: string, texts: string[]): Promise<number[]> {
    const { RERANK_PROVIDER: provider, RERANK_URL: url, RERANK_MODEL: model, RERANK_API_KEY: key, RERANK_TIMEOUT_MS: timeout } = this.config;
    const [path, body] =
      provider === 'tei'
        ? ['/rerank', { query, texts, truncate: true }]
        : ['/v1/rerank', { model, query, documents: texts, top_n: texts.length, return_documents: false }];
    const endpoint = `${url!.replace(/\/+$/, '')}${path}`;
    const fail = (kind: ProviderError['kind'], detail: string, status?: number, cause?: unknown) =>
      new ProviderError(kind, `reranker ${endpoint} failed (${kind}${status ? ` ${status}` : ''}): ${detail}`, status, { cause });
    let res: Response;
    let reply: unknown;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeout),
      });
      reply = res.ok ? await res.json() : (await res.text()).slice(0, 200);
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError') throw fail('timeout', `no answer within ${timeout} ms`, undefined, err);
      if (name === 'SyntaxError') throw fail('bad_response', 'the reply is not JSON', undefined, err);
      throw fail('connection', (err as Error).message, undefined, err);
    }
    if (!res.ok) throw fail(kindOfStatus(res.status), String(reply), res.status);
    const results: unknown = provider === 'tei' ? reply : (reply as { results?: unknown } | null)?.results;
    const field = provider === 'tei' ? 'score' : 'relevance_score';
    if (!Array.isArray(results)) throw fail('bad_response', `a reply without results: ${JSON.stringify(reply).slice(0, 200)}`);
    const scores = new Array<number>(texts.length).fill(NaN);
    for (const r of results as (Record<string, unknown> | null)[]) {
      const { index, [field]: score } = r ?? {};
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= texts.length || typeof score !== 'number' || !Number.isFinite(score)) {
        throw fail('bad_response', `a result that is not an index and a ${field}: ${JSON.stringify(r).slice(0, 200)}`);
      }
      scores[index] = score;
    }
    if (scores.some(Number.isNaN)) throw fail('bad_response', `${results.length} scores for ${texts.length} texts, not one for each`);
    return scores;
  }
}
