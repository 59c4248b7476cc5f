import { countTokens } from '@app/memory/context/tokenizer';

describe('countTokens (o200k_base)', () => {
  it('matches known o200k counts', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('Hello, world!')).toBe(4);
    // o200k's larger vocabulary: cl100k_base needs 8 tokens for this
    expect(countTokens('日本語のテキスト')).toBe(6);
  });

  it('is a real tokenizer, not a length/4 estimate', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(1000).trim();
    expect(countTokens(text)).toBe(10000);
    expect(Math.ceil(text.length / 4)).toBe(11250);
    expect(countTokens('hello world')).not.toBe(Math.ceil('hello world'.length / 4));
  });

  it('counts special-token strings in user text as plain text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b')).toBe(9);
    expect(countTokens('<|im_start|>')).toBeGreaterThan(1);
  });

  it('counts emoji, combining marks and lone surrogates', () => {
    expect(countTokens('👋🏽')).toBeGreaterThan(1);
    expect(countTokens('e\u0301')).toBeGreaterThanOrEqual(1);
    expect(countTokens('\uD800')).toBe(1);
  });
});
