import { loadConfig } from '@app/memory/config/load-config';
import { configuredSpec, fingerprintOf, generationOf, parseGenerationSpec } from '@app/memory/generation/embedding-generation';
import { InvalidInputError } from '@app/memory/errors/invalid-input.error';

describe('embedding generations', () => {
  it('parses provider/model/dim, a model with slashes included', () => {
    expect(parseGenerationSpec('local/local/1024')).toEqual({ provider: 'local', model: 'local', dim: 1024 });
    expect(parseGenerationSpec('openai-compatible/BAAI/bge-m3/1024')).toEqual({ provider: 'openai-compatible', model: 'BAAI/bge-m3', dim: 1024 });
  });

  it.each(['local/1024', 'nope/m/64', 'openai/m/4', 'openai/m/9000', 'openai/m/1.5', 'openai//64', 'local/bge/384'])('refuses %s with a clear message', (text) => {
    expect(() => parseGenerationSpec(text)).toThrow(InvalidInputError);
  });

  it('tells two models of one dimension apart by their fingerprint, and the local embedder with and without word vectors', () => {
    const a = fingerprintOf({ provider: 'openai-compatible', model: 'bge-m3', dim: 1024 });
    expect(fingerprintOf({ provider: 'openai-compatible', model: 'e5-large', dim: 1024 })).not.toBe(a);
    expect(fingerprintOf({ provider: 'openai', model: 'bge-m3', dim: 1024 })).not.toBe(a);
    expect(fingerprintOf({ provider: 'openai-compatible', model: 'bge-m3', dim: 1024 })).toBe(a);
    // 150-d is lexical only, 200-d mixes word vectors in: different spaces, different fingerprints (and dims).
    expect(fingerprintOf({ provider: 'local', model: 'local', dim: 150 })).not.toBe(fingerprintOf({ provider: 'local', model: 'local', dim: 200 }));
  });

  it("names the first generation's field `embedding` and a later one's after its id", () => {
    const spec = configuredSpec(loadConfig({ EMBEDDING_PROVIDER: 'local', EMBEDDING_DIM: '384' }));
    expect(spec).toEqual({ provider: 'local', model: 'local', dim: 384 });
    const first = generationOf(spec, true);
    const later = generationOf(spec);
    expect(first).toMatchObject({ field: 'embedding', id: first.fingerprint.slice(0, 12) });
    expect(later.field).toBe(`embedding_${later.id}`);
    const azure = configuredSpec(loadConfig({
      EMBEDDING_PROVIDER: 'azure', AZURE_OPENAI_API_KEY: 'k', AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', AZURE_OPENAI_EMBEDDING_DEPLOYMENT: 'emb-prod', EMBEDDING_DIM: '1536',
    }));
    expect(azure).toEqual({ provider: 'azure', model: 'emb-prod', dim: 1536 });
  });
});
