import type { ChatResponse } from '../../apps/cli/src/http/api-types';
import { formatAnswer, formatHistoryTurn, formatSimilarity, hangingIndent } from '../../apps/cli/src/report/format-chat';

const timings = { write: 1, read: 2, assemble: 0.5, llm: 0.2, e2e: 4 };
const response = (over: Partial<ChatResponse>): ChatResponse => ({
  reply: 'Biscuit.',
  responder: 'gpt-4o-mini',
  memories: [],
  contextTokens: 12,
  dropped: 0,
  timings,
  ...over,
});

describe('the chat REPL output', () => {
  it('clamps and rounds similarities: no 1.0000000429, no -0.000', () => {
    expect([1.0000000429, -0.0000001, 0.12345, -1.2, -0.0004].map(formatSimilarity)).toEqual(['1.000', '0.000', '0.123', '-1.000', '0.000']);
    expect(formatSimilarity(-0.25)).toBe('-0.250');
  });

  it('names the responder once per answer', () => {
    expect(formatAnswer(response({}), false)).toBe('assistant (gpt-4o-mini): Biscuit.');
    const offline = response({ responder: 'offline extractive responder', reply: '[offline extractive responder] From the stored memories:\n- My dog is called Biscuit.' });
    const text = formatAnswer(offline, false);
    expect(text.match(/offline extractive responder/g)).toHaveLength(1);
    expect(text).toBe('assistant: [offline extractive responder] From the stored memories:\n           - My dog is called Biscuit.');
  });

  it('indents every line of a multi-line memory under its first', () => {
    const memory = { turnId: 't3', sessionId: 's', userId: null, metadata: {}, tags: [], seq: 3, role: 'user' as const, content: 'line one\nline two', similarity: 1.0000000429, score: 1, timestamp: '1970-01-01T00:00:00.000Z' };
    const lines = formatAnswer(response({ memories: [memory] }), true).split('\n');
    expect(lines[1]).toBe('    sim 1.000  #3 user: line one');
    expect(lines[2]).toBe(`${' '.repeat('    sim 1.000  #3 user: '.length)}line two`);
    expect(formatHistoryTurn({ seq: 1, turnId: 't', role: 'user', content: 'a\nb', timestamp: '1970-01-01T00:00:00.000Z', tokenCount: 2, userId: null })).toBe(
      `  #1 1970-01-01T00:00:00.000Z user: a\n${' '.repeat('  #1 1970-01-01T00:00:00.000Z user: '.length)}b`,
    );
    expect(hangingIndent('one', 4)).toBe('one');
  });
});
