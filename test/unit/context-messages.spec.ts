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
      { role: 'system', content: `${MEMORY_PREAMBLE}\n\n## Relevant memories\n- [2026-01-01T08:59:59.000Z] user (similarity 0.800): I prefer aisle seats.` },
      { role: 'assistant', content: 'Which date?' },
      { role: 'user', content: 'Book the flight.' },
    ]);
    expect(ctx.text).toContain('## Recent conversation\n- [2026-01-01T09:00:02.000Z] assistant: Which date?');
    expect(ctx.tokens).toBe(countTokens(ctx.text));
    expect(ctx.dropped).toBe(0);
  });

  it('says so when no memory is relevant', async () => {
    const ctx = await buildMemoryContext(assembler, { memories: [], recent: [], maxTokens: 500 });
    expect(ctx.messages).toEqual([{ role: 'system', content: `${MEMORY_PREAMBLE}\n\n(no stored memory is relevant to this message)` }]);
    expect(ctx).toMatchObject({ text: '', tokens: 0, dropped: 0 });
  });

  it('keeps the contents of every message, preamble included, within maxTokens, and counts what it left out', async () => {
    const words = fc.array(fc.constantFrom('seat', 'flight', 'Lisbon', '09:40', 'aisle', 'naïve', '日本', '\n'), { minLength: 1, maxLength: 40 }).map((w) => w.join(' '));
    await fc.assert(
      fc.asyncProperty(fc.array(words, { maxLength: 12 }), fc.array(words, { maxLength: 8 }), fc.integer({ min: 120, max: 800 }), async (mems, recents, maxTokens) => {
        const memories = mems.map((c, i) => memory(i + 1, 1 - i / 20, c));
        const recent = recents.map((c, i) => turn(i + 1, c));
        const ctx = await buildMemoryContext(assembler, { memories, recent, maxTokens });
        const used = ctx.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
        expect(used).toBeLessThanOrEqual(maxTokens);
        expect(ctx.tokens).toBe(countTokens(ctx.text));
        expect(ctx.dropped).toBe(memories.length + recent.length - (ctx.text.match(/^- \[/gm) ?? []).length);
      }),
      { numRuns: 150 },
    );
  });
});
