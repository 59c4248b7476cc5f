/** mulberry32: a small seeded PRNG, so every run benchmarks the same texts. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa do fe gu hi ja ke lu ma no pe qu ri so tu va we xi yo za'.split(' ');

/**
 * Deterministic sentences of 10 to 24 words over a 4,000-word vocabulary with a skewed (Zipf-like)
 * word frequency, so that embeddings spread like those of real text instead of all looking alike.
 */
export function syntheticTexts(count: number, seed: number): string[] {
  const random = prng(seed);
  const vocabulary = Array.from({ length: 4000 }, (_, i) =>
    Array.from({ length: 2 + (i % 3) }, (_, j) => SYLLABLES[(i * 7 + j * 13 + ((i >> 4) * j)) % SYLLABLES.length]).join('') + i.toString(36),
  );
  const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 2)];
  return Array.from({ length: count }, () => Array.from({ length: 10 + Math.floor(random() * 15) }, word).join(' '));
}
