import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { EmbeddingProvider } from '@app/memory';
import { Metrics } from '@app/memory';
import { EMBEDDING_PROVIDER } from '@app/memory/nest/tokens';
import { observeProvider } from '@app/memory/metrics/observe-provider';

/**
 * Embeds queries with the embedder's provider; a tenant's repeated queries come from an LRU cache. Entries are
 * per tenant: a hit on another tenant's query would tell, by its speed, that someone had just searched that text.
 */
@Injectable()
export class QueryEmbedder {
  private readonly cache = new LRUCache<string, Float32Array>({ max: 2000 });

  constructor(
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    private readonly metrics: Metrics,
  ) {}

  async embed(tenant: string, query: string): Promise<Float32Array> {
    // Tenant ids cannot contain '\n' (ID_PATTERN): the key is unambiguous.
    const key = `${tenant}\n${query}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const [vector] = await observeProvider(this.metrics, 'embedding', this.provider.name, () => this.provider.embed([query]));
    this.cache.set(key, vector);
    return vector;
  }
}
