import type { EmbeddingProvider } from './embedding-provider';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct seeds keep the feature families apart: the word "log" and the trigram "log" land in different buckets.
const WORD_SEED = FNV_OFFSET;
const BIGRAM_SEED = 0x9e3779b9;
const TRIGRAM_SEED = 0x7f4a7c15;
// Boundary markers around a word for its character trigrams ("^lo", "log", "og$").
const WORD_START = 0x02;
const WORD_END = 0x03;
// Words and bigrams carry meaning; trigrams only add tolerance to inflection and spelling ("login" ~ "log in").
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.8;
const TRIGRAM_WEIGHT = 0.35;
const STOP_WEIGHT = 0.15;

/** Final avalanche (murmur3 fmix32): FNV-1a alone leaves the low bits, used for the bucket and sign, poorly mixed. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over a word's code units, then fmix: the same word hash embedOne computes inline. */
function hashWord(word: string): number {
  let h = WORD_SEED;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return fmix(h);
}

/**
 * Common English function words, held as hashes so the hot loop needs no substring. At full weight they would make
 * every question match every sentence, so they get a small weight and no trigrams; a bigram with a content word keeps
 * full weight, where they carry meaning ("log in", "my account").
 */
const STOP_WORDS = new Set(
  (
    'a about an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its ' +
    'me my of on or our she so than that the their them then there these they this to us was we were what when where which who ' +
    'why will with would you your'
  )
    .split(' ')
    .map(hashWord),
);

/** ASCII letters and digits, plus every non-ASCII code unit outside the common punctuation and space blocks. */
function isWordChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
  return c !== 0xa0 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f) && c !== 0xfeff;
}

/**
 * The offline lexical embedder: deterministic feature hashing of lowercased words, word bigrams and
 * boundary-marked character trigrams (function words only within bigrams) into `dim` signed buckets, with sublinear (log) term weighting and L2 norm.
 * It matches shared words and word pieces, not meaning; it needs no network, keys or model files.
 * The only allocations per text are the lowercased copy and the output vector, so it embeds thousands of texts a second.
 */
export class LocalEmbedder implements EmbeddingProvider {
  readonly name = 'local' as const;
  readonly label: string;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`LocalEmbedder dimension must be a positive integer, got ${dim}`);
    this.label = `offline lexical embedder (feature hashing, ${dim}-d)`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form for callers already on a hot path (the extractive responder, benchmarks). */
  embedOne(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    const s = text.toLowerCase();
    const n = s.length;
    let prev = 0;
    let prevStop = false;
    let hasPrev = false;
    let i = 0;
    while (i < n) {
      while (i < n && !isWordChar(s.charCodeAt(i))) i++;
      if (i === n) break;
      const start = i;
      let h = WORD_SEED;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (!isWordChar(c)) break;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      const word = fmix(h);
      const stop = STOP_WORDS.has(word);
      this.add(out, word, stop ? STOP_WEIGHT : WORD_WEIGHT);
      if (!stop) this.addTrigrams(out, s, start, i);
      if (hasPrev) {
        this.add(out, fmix(Math.imul(Math.imul(BIGRAM_SEED ^ prev, FNV_PRIME) ^ word, FNV_PRIME)), stop && prevStop ? STOP_WEIGHT : BIGRAM_WEIGHT);
      }
      prev = word;
      prevStop = stop;
      hasPrev = true;
    }
    return this.finish(out);
  }

  /** Trigrams of "^word$": one per character of the word. */
  private addTrigrams(out: Float32Array, s: string, start: number, end: number): void {
    let a = WORD_START;
    let b = s.charCodeAt(start);
    for (let p = start + 1; p <= end; p++) {
      const c = p < end ? s.charCodeAt(p) : WORD_END;
      this.add(out, fmix(Math.imul(Math.imul(Math.imul(TRIGRAM_SEED ^ a, FNV_PRIME) ^ b, FNV_PRIME) ^ c, FNV_PRIME)), TRIGRAM_WEIGHT);
      a = b;
      b = c;
    }
  }

  /** Signed hashing: the low bit picks the sign so collisions tend to cancel instead of piling up. */
  private add(out: Float32Array, h: number, weight: number): void {
    out[(h >>> 1) % this.dim] += h & 1 ? -weight : weight;
  }

  /** Sublinear weighting (sign(v)·ln(1+|v|)) so a repeated word does not drown the rest, then L2 normalisation. */
  private finish(out: Float32Array): Float32Array {
    let sum = 0;
    for (let j = 0; j < out.length; j++) {
      const v = out[j];
      const w = v >= 0 ? Math.log1p(v) : -Math.log1p(-v);
      out[j] = w;
      sum += w * w;
    }
    if (sum === 0) return out; // no words at all: the zero vector, which every similarity treats as unrelated
    const inv = 1 / Math.sqrt(sum);
    for (let j = 0; j < out.length; j++) out[j] *= inv;
    return out;
  }
}
