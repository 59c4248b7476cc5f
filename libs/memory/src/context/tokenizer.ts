import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { nextSlice } from '../vector/in-process/time-slicer';

/** User text may contain strings such as `<|endoftext|>`: count them as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * gpt-tokenizer's BPE of one pre-token costs more than linearly in its length (a 64k-character word took 4.9 s): no
 * run of non-space, or of space, characters longer than this reaches it (a 256-character run costs about 1 ms).
 */
export const MAX_RUN = 256;
/** Text is counted in pieces of at most this many characters: a time-sliced count yields between them. */
const PIECE = 2048;
/** A run of MAX_RUN + 1 characters or more, found from its start only (the lookbehinds keep the search linear). */
const LONG_RUN = new RegExp(`(?<!\\S)\\S{${MAX_RUN + 1},}|(?<!\\s)\\s{${MAX_RUN + 1},}`, 'gu');
const CHUNK = new RegExp(`[\\s\\S]{1,${MAX_RUN}}`, 'gu');
const SPACE_OR_TAB = /[ \t]/;
const WHITESPACE = /\s/;

/**
 * Slices of `text` whose token counts add up to the text's. They are cut before a space or tab that follows a
 * non-space, where the o200k and cl100k pre-tokenizers always split (no pre-token has whitespace after a
 * non-space), so the sum is exact; a run longer than MAX_RUN (one over-long "word") is cut every MAX_RUN
 * characters, which may add a token at each cut, and so may a 2,048-character stretch without any such point.
 */
export function* tokenPieces(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + PIECE);
    if (end < text.length) {
      let cut = end;
      while (cut > start && !(SPACE_OR_TAB.test(text[cut]) && !WHITESPACE.test(text[cut - 1]))) cut--;
      if (cut > start) end = cut;
      else if (/[\uD800-\uDBFF]/.test(text[end - 1])) end--; // not between the halves of a surrogate pair
    }
    yield* boundedRuns(text.slice(start, end));
    start = end;
  }
}

function* boundedRuns(piece: string): Generator<string> {
  let from = 0;
  for (const run of piece.matchAll(LONG_RUN)) {
    if (run.index > from) yield piece.slice(from, run.index);
    yield* run[0].match(CHUNK)!;
    from = run.index + run[0].length;
  }
  if (from < piece.length) yield piece.slice(from);
}

/** The number of o200k_base tokens (the GPT-4o / GPT-5 encoding) in `text`: for short or bounded text (see countTokensSliced). */
export function countTokens(text: string): number {
  let n = 0;
  for (const piece of tokenPieces(text)) n += countO200k(piece, PLAIN_TEXT);
  return n;
}

/**
 * countTokens of each text, for texts of any length and number (32,000 characters of rare symbols are ~300 ms of
 * work): yields to the event loop every few milliseconds, so other requests are answered meanwhile.
 */
export async function countTokensSliced(texts: readonly string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const text of texts) {
    let n = 0;
    for (const piece of tokenPieces(text)) {
      await nextSlice();
      n += countO200k(piece, PLAIN_TEXT);
    }
    counts.push(n);
  }
  return counts;
}

/**
 * Whether `text` fits in `limit` tokens of cl100k_base, the encoding of OpenAI's embedding models; counting stops at
 * the limit and yields to the event loop every few milliseconds. A token is at least one UTF-8 byte, so a text of at
 * most `limit` bytes is not tokenised at all.
 */
export async function fitsEmbeddingInput(text: string, limit: number): Promise<boolean> {
  if (Buffer.byteLength(text) <= limit) return true;
  let n = 0;
  for (const piece of tokenPieces(text)) {
    await nextSlice();
    n += countCl100k(piece, PLAIN_TEXT);
    if (n > limit) return false;
  }
  return true;
}
