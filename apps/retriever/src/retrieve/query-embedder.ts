import { Injectable, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { type EmbeddingGeneration, GenerationEmbedder, GenerationWatch } from '@app/memory';

/**
 * Embeds queries in a given embedding generation; a tenant's repeated queries come from an LRU cache. Entries are
 * per tenant: a hit on another tenant's query would tell, by its speed, that someone had just searched that text.
 */
@Injectable()
export class QueryEmbedder implements OnModuleInit {
  private readonly cache = new LRUCache<string, Float32Array>({ max: 2000 });

  constructor(
    private readonly embedder: GenerationEmbedder,
    private readonly watch: GenerationWatch,
  ) {}

  /** The active generation's embedder is made at start: the local one reads its word vectors (tens of ms), which the first search would otherwise wait for. */
  onModuleInit(): void {
    this.watch.embedder(this.watch.active);
  }

  async embed(generation: EmbeddingGeneration, tenant: string, query: string): Promise<Float32Array> {
    // Tenant ids cannot contain '\n' (ID_PATTERN): the key is unambiguous.
    const key = `${generation.fingerprint}\n${tenant}\n${query}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const [vector] = await this.embedder.embed(generation, [query]);
    this.cache.set(key, vector);
    return vector;
  }
}
