import stem from 'wink-porter2-stemmer';

/**
 * Common English function words and contraction pieces. Chosen by measurement on the LoCoMo dev set
 * (docs/retrieval.md): dropping this short list from BM25 queries and documents raised recall@10 from 0.57 to 0.64,
 * while a long list (stopwords-en, 1,300 words) gave 0.61: questions lose content words with it.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its ' +
    'me my of on or our she so than that the their them then there these they this to us was we were what when where which who ' +
    'why will with would you your'
  ).split(' '),
);

/**
 * The previous turn's words count this much of the turn's own (contextual indexing): an answer is found by its
 * question's words. Measured on the LoCoMo dev half (docs/retrieval.md); RediSearch's `context` field has it as its WEIGHT,
 * MiniSearch as its boost.
 */
export const CONTEXT_WEIGHT = 0.5;

/** At most this many distinct words of a query are searched: a 32,000-character query must not cost thousands of term lookups. */
export const MAX_QUERY_WORDS = 64;

const WORD = /[\p{L}\p{N}]+/gu;

/** Lowercased runs of letters and digits: every punctuation mark, symbol and space separates words. */
export const words = (text: string): string[] => text.toLowerCase().match(WORD) ?? [];

const DIGIT = /\d/;
const stems = new Map<string, string>();
const MAX_CACHED_STEMS = 200_000;

/**
 * No English word is longer; Porter2's cost grows faster than linearly with length (a 32,000-character "word" took
 * 2.35 s), so a longer one is used as it is.
 */
export const MAX_STEMMED = 64;

/** Porter2 (Snowball English, as RediSearch's default TEXT stemming) with a bounded memo: stemming is the embedder's hot path. */
export function stemWord(word: string): string {
  if (word.length > MAX_STEMMED) return word;
  let s = stems.get(word);
  if (s === undefined) {
    s = word.length > 2 && !DIGIT.test(word) ? stem(word) : word; // porter2 mangles numbers: 2023 -> 202i
    if (stems.size >= MAX_CACHED_STEMS) stems.clear();
    stems.set(word, s);
  }
  return s;
}

/** A term of the in-process full-text index: stop words give null (not indexed, not searched). */
export const indexTerm = (word: string): string | null => (STOP_WORDS.has(word) ? null : stemWord(word));

/** The distinct searchable words of a query, unstemmed (RediSearch stems them itself), in order of appearance. */
export const queryWords = (text: string): string[] =>
  [...new Set(words(text).filter((w) => !STOP_WORDS.has(w)))].slice(0, MAX_QUERY_WORDS);
