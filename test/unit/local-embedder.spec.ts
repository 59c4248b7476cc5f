import fc from 'fast-check';
import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (v: Float32Array) => Math.sqrt(cosine(v, v));

describe('LocalEmbedder (offline lexical embedder)', () => {
  const embedder = new LocalEmbedder(384);

  it('is the default provider, labelled as the offline lexical embedder, with the configured dimension', () => {
    const provider = createEmbeddingProvider(loadConfig({ EMBEDDING_DIM: '64' }));
    expect(provider).toBeInstanceOf(LocalEmbedder);
    expect(provider).toMatchObject({ name: 'local', dim: 64 });
    expect(provider.label).toMatch(/^offline lexical embedder/);
    expect(createEmbeddingProvider(loadConfig({})).dim).toBe(384);
  });

  it('scores related texts higher than unrelated ones', async () => {
    const [login, loginFails, co2] = await embedder.embed([
      'I cannot log in to my account',
      'login fails for my account',
      'the CO2 emitted by training GPT-3',
    ]);
    expect(cosine(login, loginFails)).toBeGreaterThan(0.2);
    expect(cosine(login, loginFails)).toBeGreaterThan(cosine(login, co2) + 0.2);
    expect(cosine(loginFails, loginFails)).toBeCloseTo(1, 5);
    const [question, fact, other] = await embedder.embed([
      'How much CO2 did training GPT-3 emit?',
      'Training GPT-3 emitted an estimated 552 tCO2e.',
      'My order 12345 has not arrived yet.',
    ]);
    expect(cosine(question, fact)).toBeGreaterThan(cosine(question, other) + 0.2);
  });

  it('is deterministic across instances and ignores case', async () => {
    const a = await new LocalEmbedder(128).embed(['Reset my Password, please']);
    const b = await new LocalEmbedder(128).embed(['reset my password, PLEASE']);
    expect(Array.from(a[0])).toEqual(Array.from(b[0]));
  });

  it('returns one vector per text, in order', async () => {
    const texts = ['alpha beta', 'gamma', 'delta epsilon zeta'];
    const batch = await embedder.embed(texts);
    expect(batch).toHaveLength(3);
    texts.forEach((t, i) => expect(Array.from(batch[i])).toEqual(Array.from(embedder.embedOne(t))));
    expect(await embedder.embed([])).toEqual([]);
  });

  it('uses word order through bigrams', () => {
    const a = embedder.embedOne('dog bites man');
    const b = embedder.embedOne('man bites dog');
    expect(cosine(a, b)).toBeLessThan(0.999);
    expect(cosine(a, b)).toBeGreaterThan(0.5);
  });

  it('gives a finite unit vector for any text with a word, and the zero vector for none', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const v = embedder.embedOne(text);
        expect(v).toHaveLength(384);
        expect(norm(v)).toBeCloseTo(/[a-z0-9]/i.test(text) ? 1 : 0, 4);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const v = embedder.embedOne(text);
        expect(v.every(Number.isFinite)).toBe(true);
        expect([0, 1]).toContain(Math.round(norm(v) * 1e4) / 1e4);
      }),
    );
    for (const empty of ['', '   ', '?!.,;']) expect(Array.from(embedder.embedOne(empty)).every((x) => x === 0)).toBe(true);
  });

  it('rejects a dimension that is not a positive integer', () => {
    expect(() => new LocalEmbedder(0)).toThrow(RangeError);
    expect(() => new LocalEmbedder(1.5)).toThrow(/positive integer/);
  });
});
