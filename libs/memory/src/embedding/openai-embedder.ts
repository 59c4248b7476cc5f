import type OpenAI from 'openai';
import { DimensionMismatchError } from '../errors/dimension-mismatch.error';
import { ProviderError } from '../errors/provider.error';
import type { EmbeddingProvider } from './embedding-provider';
import { RemoteProviderName, toProviderError } from './openai-client';

/** The embeddings endpoint accepts at most 2048 inputs per request. */
export const MAX_INPUTS_PER_CALL = 2048;

/** Embeddings through the openai SDK (OpenAI, Azure OpenAI or any server speaking its wire format). */
export class OpenAiEmbedder implements EmbeddingProvider {
  readonly label: string;

  constructor(
    readonly name: RemoteProviderName,
    private readonly client: OpenAI,
    private readonly model: string,
    readonly dim: number,
  ) {
    this.label = `${name} embeddings (${model})`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += MAX_INPUTS_PER_CALL) {
      out.push(...(await this.embedChunk(texts.slice(i, i + MAX_INPUTS_PER_CALL))));
    }
    return out;
  }

  private async embedChunk(input: string[]): Promise<Float32Array[]> {
    let data: unknown;
    try {
      // 'float' explicitly: compatible servers do not all speak the SDK's default base64 encoding.
      ({ data } = await this.client.embeddings.create({ model: this.model, input, encoding_format: 'float' }));
    } catch (err) {
      throw toProviderError(err, this.label);
    }
    if (!Array.isArray(data) || data.length !== input.length) {
      throw this.badResponse(`expected ${input.length} embeddings, got ${Array.isArray(data) ? data.length : 'none'}`);
    }
    const vectors = new Array<Float32Array>(input.length);
    for (const [pos, item] of data.entries()) {
      // Results carry their input's index; fall back to position for servers that omit it.
      const index = typeof item?.index === 'number' ? item.index : pos;
      if (!Number.isInteger(index) || index < 0 || index >= input.length || vectors[index]) {
        throw this.badResponse(`embedding index ${index} is out of range or repeated`);
      }
      vectors[index] = this.toVector(item?.embedding, index);
    }
    return vectors;
  }

  private toVector(values: unknown, index: number): Float32Array {
    if (!Array.isArray(values)) throw this.badResponse(`embedding ${index} is not an array of numbers`);
    if (values.length !== this.dim) throw new DimensionMismatchError(this.dim, values.length, this.label);
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw this.badResponse(`embedding ${index} contains a non-finite value`);
    }
    return Float32Array.from(values as number[]);
  }

  private badResponse(detail: string): ProviderError {
    return new ProviderError('bad_response', `${this.label} returned a malformed response: ${detail}`);
  }
}
