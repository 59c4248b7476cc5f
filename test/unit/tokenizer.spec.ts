import fc from 'fast-check';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens, countTokensSliced, fitsEmbeddingInput, MAX_RUN, tokenPieces } from '@app/memory/context/tokenizer';
import { MAX_STEMMED, stemWord } from '@app/memory/vector/text-terms';

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

/**
 * Issue 21, defect 1: gpt-tokenizer's BPE of one long pre-token, and Porter2 stemming of one long word, cost more
 * than linearly (a 64k-character word: 4.9 s of BPE), and ran on the API's, embedder's and retriever's event loops.
 * A long run is now counted in pieces of MAX_RUN characters, and stemming skips words over MAX_STEMMED.
 */
describe('bounded token counting and stemming of over-long words', () => {
  const direct = (text: string) => countO200k(text, { disallowedSpecial: new Set<string>() });

  it('counts a 64k-character word as the sum of its MAX_RUN-character pieces (linear work, not 5 s of BPE)', () => {
    const word = 'x'.repeat(64 * 1024);
    const started = performance.now();
    expect(countTokens(word)).toBe((word.length / MAX_RUN) * direct('x'.repeat(MAX_RUN)));
    expect(performance.now() - started).toBeLessThan(2000); // before: 16.5 s on this machine
    const spaces = ' '.repeat(64 * 1024);
    expect(countTokens(spaces)).toBe((spaces.length / MAX_RUN) * direct(' '.repeat(MAX_RUN)));
  });

  it('never hands BPE a piece with a run longer than MAX_RUN, and the pieces put together are the text', () => {
    const text = `a ${'日'.repeat(5000)} b ${'!'.repeat(700)}\t${' '.repeat(900)}c${'👋🏽'.repeat(400)} end`;
    const pieces = [...tokenPieces(text)];
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) for (const run of piece.match(/\S+|\s+/gu) ?? []) expect([...run].length).toBeLessThanOrEqual(MAX_RUN);
  });

  it('is exact for text whose words are shorter than MAX_RUN, however long the text', () => {
    const alphabet = fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', 'word', 'Word', "'s", '日本', '👋🏽', '!?', '/', '123456', '<|endoftext|>', 'naïve');
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 500, maxLength: 3000 }), (parts) => {
        const text = parts.join('');
        fc.pre(!/\S{257}|\s{257}/u.test(text));
        expect(countTokens(text)).toBe(direct(text));
      }),
      { numRuns: 40 },
    );
  });

  it('counts time-sliced to the same figures', async () => {
    const texts = ['hello world', 'x'.repeat(10_000), 'The quick brown fox. '.repeat(500)];
    expect(await countTokensSliced(texts)).toEqual(texts.map(countTokens));
  });

  it('refuses 256k characters of one word for the embedding model by counting only up to the limit', async () => {
    expect(await fitsEmbeddingInput('x'.repeat(256_000), 8191)).toBe(false);
    expect(await fitsEmbeddingInput('x'.repeat(8191), 8191)).toBe(true);
    expect(await fitsEmbeddingInput('你'.repeat(1001), 1000)).toBe(false);
    expect(await fitsEmbeddingInput('你'.repeat(1000), 1000)).toBe(true);
  });

  it('stems words up to MAX_STEMMED characters and leaves a longer one as it is (Porter2 took 2.35 s for 32k)', () => {
    expect(stemWord('running')).toBe('run');
    const long = 'ab'.repeat(32_000);
    const started = performance.now();
    expect(stemWord(long)).toBe(long);
    expect(stemWord(`${'x'.repeat(MAX_STEMMED - 7)}nations`)).toBe(`${'x'.repeat(MAX_STEMMED - 7)}nation`);
    expect(performance.now() - started).toBeLessThan(200); // before: 166 s for this word, on this machine
  });
});
