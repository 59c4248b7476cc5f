import type { ProviderName } from '../config/memory-config';

/** A batch of texts in, one vector per text out (same order), each of length `dim` and finite. */
export interface EmbeddingProvider {
  readonly name: ProviderName;
  /** Human label for logs, metrics and docs, e.g. 'offline lexical embedder (feature hashing, 384-d)'. */
  readonly label: string;
  readonly dim: number;
  /** Throws DimensionMismatchError when a vector's length differs from `dim`, ProviderError when a remote call fails. */
  embed(texts: string[]): Promise<Float32Array[]>;
}
