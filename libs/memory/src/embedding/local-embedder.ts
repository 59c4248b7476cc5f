import { STOP_WORDS, stemWord, words } from '../vector/text-terms';
import type { EmbeddingProvider } from './embedding-provider';
import type { WordVectors } from './word-vectors';

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
/** The word-vector part's share of the squared norm; 0.35 to 0.65 measured alike on the dev set (docs/retrieval.md). */
const SEMANTIC_SHARE = 0.5;

/** Final avalanche (murmur3 fmix32): FNV-1a alone leaves the low bits, used for the bucket and sign, poorly mixed. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over a string's code units, then fmix. */
function hash(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return fmix(h);
}

/**
 * The offline embedder: deterministic, no network, keys or model server.
 * - Lexical part: feature hashing of Porter2-stemmed words, stemmed word bigrams and boundary-marked character
 *   trigrams of the words (function words at a small weight and without trigrams) into signed buckets, with sublinear
 *   (log) term weighting. It matches shared words and word pieces.
 * - Semantic part (when given word vectors, in the last 100 dimensions): the sum of the content words' pretrained
 *   GloVe vectors, so that "kids" meets "children" and "painting" meets "canvas". It knows words, not sentences.
 * Each part is normalised, weighted by SEMANTIC_SHARE, and the whole has unit length.
 */
export class LocalEmbedder implements EmbeddingProvider {
  readonly name = 'local' as const;
  readonly label: string;
  /** Dimensions of the lexical part (all of them without word vectors). */
  private readonly lexical: number;

  constructor(
    readonly dim: number,
    private readonly wordVectors?: WordVectors,
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`LocalEmbedder dimension must be a positive integer, got ${dim}`);
    this.lexical = dim - (wordVectors?.dim ?? 0);
    if (this.lexical < 0 || (this.lexical === 0 && !wordVectors)) throw new RangeError(`LocalEmbedder dimension ${dim} leaves no room for the lexical part`);
    this.label = !wordVectors
      ? `offline lexical embedder (stemmed feature hashing, ${dim}-d)`
      : this.lexical === 0
        ? `offline word-vector embedder (${wordVectors.source} word vectors ${wordVectors.dim}-d)`
        : `offline embedder (stemmed lexical feature hashing ${this.lexical}-d + ${wordVectors.source} word vectors ${wordVectors.dim}-d)`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form for callers already on a hot path (the extractive responder, benchmarks). */
  embedOne(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    let prev = 0;
    let prevStop = false;
    let semantic = false;
    if (this.lexical === 0) {
      for (const word of words(text)) if (!STOP_WORDS.has(word)) this.wordVectors!.addTo(out, 0, word, 1);
      return scaled(out, 1);
    }
    for (const [i, word] of words(text).entries()) {
      const stop = STOP_WORDS.has(word);
      const stem = hash(stemWord(word), WORD_SEED);
      this.add(out, stem, stop ? STOP_WEIGHT : WORD_WEIGHT);
      if (!stop) {
        this.addTrigrams(out, word);
        if (this.wordVectors?.addTo(out, this.lexical, word, 1)) semantic = true;
      }
      if (i > 0) this.add(out, fmix(Math.imul(Math.imul(BIGRAM_SEED ^ prev, FNV_PRIME) ^ stem, FNV_PRIME)), stop && prevStop ? STOP_WEIGHT : BIGRAM_WEIGHT);
      prev = stem;
      prevStop = stop;
    }
    return this.finish(out, semantic);
  }

  /** Trigrams of "^word$": one per character of the word. */
  private addTrigrams(out: Float32Array, word: string): void {
    let a = WORD_START;
    let b = word.charCodeAt(0);
    for (let p = 1; p <= word.length; p++) {
      const c = p < word.length ? word.charCodeAt(p) : WORD_END;
      this.add(out, fmix(Math.imul(Math.imul(Math.imul(TRIGRAM_SEED ^ a, FNV_PRIME) ^ b, FNV_PRIME) ^ c, FNV_PRIME)), TRIGRAM_WEIGHT);
      a = b;
      b = c;
    }
  }

  /** Signed hashing into the lexical part: the low bit picks the sign so collisions tend to cancel instead of piling up. */
  private add(out: Float32Array, h: number, weight: number): void {
    out[(h >>> 1) % this.lexical] += h & 1 ? -weight : weight;
  }

  /**
   * Sublinear weighting of the lexical part (sign(v)·ln(1+|v|)) so a repeated word does not drown the rest; each part
   * scaled to its share, then the whole to unit length. No words at all: the zero vector, which every similarity
   * treats as unrelated.
   */
  private finish(out: Float32Array, semantic: boolean): Float32Array {
    for (let j = 0; j < this.lexical; j++) out[j] = out[j] >= 0 ? Math.log1p(out[j]) : -Math.log1p(-out[j]);
    const lexicalNorm = norm(out, 0, this.lexical);
    if (lexicalNorm === 0) return out;
    const share = semantic ? SEMANTIC_SHARE : 0;
    scale(out, 0, this.lexical, Math.sqrt(1 - share) / lexicalNorm);
    if (semantic) scale(out, this.lexical, this.dim, Math.sqrt(share) / norm(out, this.lexical, this.dim));
    return out;
  }
}

/** The vector at unit length (the zero vector, which every similarity treats as unrelated, stays zero). */
function scaled(v: Float32Array, to: number): Float32Array {
  const n = norm(v, 0, v.length);
  if (n > 0) scale(v, 0, v.length, to / n);
  return v;
}

function norm(v: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let j = from; j < to; j++) sum += v[j] * v[j];
  return Math.sqrt(sum);
}

function scale(v: Float32Array, from: number, to: number, by: number): void {
  for (let j = from; j < to; j++) v[j] *= by;
}
