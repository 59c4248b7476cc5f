import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { EmbeddingProvider } from '@app/memory';
import { Metrics } from '@app/memory';
import { EMBEDDING_PROVIDER } from '@app/memory/nest/tokens';
import { observeProvider } from '@app/memory/metrics/observe-provider';

/** Embeds queries with the embedder's provider; repeated queries come from an LRU cache. */
@Injectable()
export class QueryEmbedder {
  private readonly cache = new LRUCache<string, Float32Array>({ max: 2000 });

  constructor(
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    private readonly metrics: Metrics,
  ) {}

  async embed(query: string): Promise<Float32Array> {
    const cached = this.cache.get(query);
    if (cached) return cached;
    const [vector] = await observeProvider(this.metrics, 'embedding', this.provider.name, () => this.provider.embed([query]));
    this.cache.set(query, vector);
    return vector;
  }
}
