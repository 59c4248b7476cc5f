import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { type EmbeddingGeneration, GenerationEmbedder } from '@app/memory';

/**
 * Embeds queries in a given embedding generation; a tenant's repeated queries come from an LRU cache. Entries are
 * per tenant: a hit on another tenant's query would tell, by its speed, that someone had just searched that text.
 */
@Injectable()
export class QueryEmbedder {
  private readonly cache = new LRUCache<string, Float32Array>({ max: 2000 });

  constructor(private readonly embedder: GenerationEmbedder) {}

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
