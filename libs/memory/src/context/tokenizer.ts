import { isWithinTokenLimit } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

/** User text may contain strings such as `<|endoftext|>`: count them as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** The number of o200k_base tokens (the GPT-4o / GPT-5 encoding) in `text`. */
export function countTokens(text: string): number {
  return countO200k(text, PLAIN_TEXT);
}

/**
 * Whether `text` fits in `limit` tokens of cl100k_base, the encoding of OpenAI's embedding models; counting stops at
 * the limit. A token is at least one UTF-8 byte, so a text of at most `limit` bytes is not tokenised at all.
 */
export function fitsEmbeddingInput(text: string, limit: number): boolean {
  return Buffer.byteLength(text) <= limit || isWithinTokenLimit(text, limit, PLAIN_TEXT) !== false;
}
