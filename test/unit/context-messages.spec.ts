import fc from 'fast-check';
import { ContextAssembler } from '@app/memory/context/context-assembler';
import { buildMemoryContext, MEMORY_PREAMBLE } from '@app/memory/context/context-messages';
import { countTokens } from '@app/memory/context/tokenizer';
import type { RetrievedMemory } from '@app/memory/context/memory-context';
import type { StoredTurn } from '@app/memory/store/turn';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const assembler = new ContextAssembler();

const turn = (seq: number, content: string): StoredTurn => ({
  key: `mem:{t:s}:turn:${seq}`, tenant: 't', session: 's', seq, turnId: `id-${seq}`, role: seq % 2 ? 'user' : 'assistant',
  content, timestamp: T0 + seq * 1000, tokenCount: countTokens(content),
});
const memory = (seq: number, score: number, content: string): RetrievedMemory => ({
  key: `mem:{t:old}:turn:${seq}`, session: 'old', seq, turnId: `old-${seq}`, role: 'user', content, timestamp: T0 - seq * 1000, similarity: score, score,
});

describe('buildMemoryContext: the messages the context endpoint answers and /chat sends', () => {
  it('is a system message with the preamble and the memories, then the recent turns as chat messages, oldest first', async () => {
    const ctx = await buildMemoryContext(assembler, {
      memories: [memory(1, 0.8, 'I prefer aisle seats.')],
      recent: [turn(3, 'Book the flight.'), turn(2, 'Which date?')],
      maxTokens: 1000,
    });
    expect(ctx.messages).toEqual([
      { role: 'system', content: `${MEMORY_PREAMBLE}\n## Relevant memories\n- [2026-01-01T08:59:59.000Z] user (similarity 0.800): I prefer aisle seats.\n` },
      { role: 'assistant', content: 'Which date?' },
      { role: 'user', content: 'Book the flight.' },
    ]);
    expect(ctx.text).toContain('## Recent conversation\n- [2026-01-01T09:00:02.000Z] assistant: Which date?');
    expect(ctx.tokens).toBe(countTokens(ctx.text));
    expect(ctx.dropped).toBe(0);
  });

  it('counts the preamble as part of the context: its tokens are reported with the rest', async () => {
    const ctx = await buildMemoryContext(assembler, { memories: [], recent: [], maxTokens: 500 });
    expect(ctx.messages).toEqual([{ role: 'system', content: `${MEMORY_PREAMBLE}\n` }]);
    expect(ctx.text).toBe(`${MEMORY_PREAMBLE}\n`);
    expect(ctx.tokens).toBe(countTokens(ctx.text));
    expect(ctx.tokens).toBeGreaterThan(0);
    expect(ctx.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 0, recent: 0 });
  });

  // Issue 25: maxTokens 30 sent a preamble of about 70 tokens, reported "tokens": 0, and listed a memory it counted as dropped.
  it('keeps a budget smaller than the preamble: the preamble is left out and reported, tokens is the true count', async () => {
    const memories = [memory(1, 0.9, 'aisle'), memory(2, 0.5, 'x '.repeat(200))];
    const ctx = await buildMemoryContext(assembler, { memories, recent: [turn(3, 'ok')], maxTokens: 30 });
    const sent = ctx.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
    expect(sent).toBeLessThanOrEqual(30);
    expect(ctx.tokens).toBe(countTokens(ctx.text));
    expect(ctx.tokens).toBeLessThanOrEqual(30);
    expect(ctx.text).not.toContain(MEMORY_PREAMBLE);
    expect(ctx.droppedParts.preamble).toBe(1);
    expect(ctx.included).not.toContain(memories[1].key);
    // Each offered key is either shown or dropped, never both.
    expect(ctx.included.length + ctx.dropped).toBe(3);
    expect(ctx.dropped).toBe(ctx.droppedParts.memories + ctx.droppedParts.recent);
    expect(ctx.droppedParts.memories).toBeGreaterThanOrEqual(1);
  });

  it('shows the session summary in the system message, between the preamble and the memories', async () => {
    const summary = { text: 'Ada is planning a trip to Lisbon in May.', fromSeq: 1, toSeq: 30 };
    const ctx = await buildMemoryContext(assembler, { memories: [memory(1, 0.8, 'I prefer aisle seats.')], recent: [turn(31, 'Hotels?')], summary, maxTokens: 1000 });
    expect(ctx.summary).toEqual(summary);
    expect(ctx.messages[0].content).toBe(
      `${MEMORY_PREAMBLE}\n## Summary of the earlier conversation\n- (turns 1-30) Ada is planning a trip to Lisbon in May.\n` +
        '## Relevant memories\n- [2026-01-01T08:59:59.000Z] user (similarity 0.800): I prefer aisle seats.\n',
    );
    expect(ctx.messages.slice(1)).toEqual([{ role: 'user', content: 'Hotels?' }]);
  });

  it('keeps the contents of every message, preamble and summary included, within any maxTokens from 0 to 100,000, and counts what it left out', async () => {
    const words = fc.array(fc.constantFrom('seat', 'flight', 'Lisbon', '09:40', 'aisle', 'naïve', '日本', '\n', '  '), { minLength: 1, maxLength: 40 }).map((w) => w.join(' '));
    const text = fc.oneof(words, fc.tuple(words, fc.integer({ min: 1, max: 800 })).map(([w, n]) => `${w}\n`.repeat(n)));
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { maxLength: 12 }),
        fc.array(text, { maxLength: 8 }),
        fc.option(text, { nil: undefined }),
        fc.oneof(fc.integer({ min: 0, max: 800 }), fc.integer({ min: 0, max: 100_000 })),
        async (mems, recents, summaryText, maxTokens) => {
          const memories = mems.map((c, i) => memory(i + 1, 1 - i / 20, c));
          const recent = recents.map((c, i) => turn(i + 1, c));
          const summary = summaryText === undefined ? undefined : { text: summaryText, fromSeq: 1, toSeq: 2 };
          const ctx = await buildMemoryContext(assembler, { memories, recent, summary, maxTokens });
          const used = ctx.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
          expect(used).toBeLessThanOrEqual(maxTokens);
          expect(ctx.tokens).toBe(countTokens(ctx.text));
          expect(ctx.tokens).toBeLessThanOrEqual(maxTokens);
          expect(ctx.dropped).toBe(memories.length + recent.length - (ctx.text.match(/^- \[/gm) ?? []).length);
          expect(ctx.dropped).toBe(ctx.droppedParts.memories + ctx.droppedParts.recent);
          expect(ctx.included.length).toBe(memories.length + recent.length - ctx.dropped);
        },
      ),
      { numRuns: 150 },
    );
  });
});
