import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

/** User text may contain strings such as `<|endoftext|>`: count them as plain text instead of throwing. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** The number of o200k_base tokens (the GPT-4o / GPT-5 encoding) in `text`. */
export function countTokens(text: string): number {
  return countO200k(text, PLAIN_TEXT);
}
