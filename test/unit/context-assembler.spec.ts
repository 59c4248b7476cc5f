import fc from 'fast-check';
import { ContextAssembler, DEFAULT_FILL_ORDER, type FillStep } from '@app/memory/context/context-assembler';
import { countTokens } from '@app/memory/context/tokenizer';
import { InvalidInputError } from '@app/memory/errors/invalid-input.error';
import type { RetrievedMemory } from '@app/memory/context/memory-context';
import type { Role, StoredTurn } from '@app/memory/store/turn';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const key = (seq: number, session = 's1') => `mem:t1:${session}:turn:${seq}`;

function turn(seq: number, content: string, role: Role = seq % 2 ? 'user' : 'assistant'): StoredTurn {
  return { key: key(seq), tenant: 't1', session: 's1', seq, turnId: `turn-${seq}`, role, content, timestamp: T0 + seq * 60_000, tokenCount: countTokens(content) };
}

function memory(seq: number, score: number, content: string, session = 's0'): RetrievedMemory {
  return { key: key(seq, session), session, seq, turnId: `m-${seq}`, role: 'user', content, timestamp: T0 + seq * 60_000, similarity: score, score };
}

const assembler = new ContextAssembler();

describe('ContextAssembler', () => {
  it('marks an extracted memory as one, with its type, where a turn shows its role', async () => {
    const learnt: RetrievedMemory = { ...memory(2, 0.7, 'The user lives in Berlin.'), role: 'system', memory: { id: 'u.ada.AAAAAAAAAAAAAAAA', type: 'fact', entities: ['Berlin'], sources: [] } };
    const out = await assembler.assemble({ memories: [learnt, memory(1, 0.5, 'I moved to Berlin.')], recent: [], maxTokens: 1000 });
    expect(out.sections.memories).toBe(
      [
        '## Relevant memories',
        '- [2026-01-01T09:01:00.000Z] user (similarity 0.500): I moved to Berlin.',
        '- [2026-01-01T09:02:00.000Z] long-term memory, fact (similarity 0.700): The user lives in Berlin.',
        '',
      ].join('\n'),
    );
  });

  it('writes memories then the recent conversation, each in chronological order', async () => {
    const out = await assembler.assemble({
      memories: [memory(3, 0.9, 'I prefer window seats.'), memory(1, 0.5, 'My name is Ada.\nI live in Oslo.')],
      recent: [turn(11, 'Sure, which date?'), turn(10, 'Book me a flight.')],
      maxTokens: 1000,
    });
    expect(out.text).toBe(
      [
        '## Relevant memories',
        '- [2026-01-01T09:01:00.000Z] user (similarity 0.500): My name is Ada.',
        '  I live in Oslo.',
        '- [2026-01-01T09:03:00.000Z] user (similarity 0.900): I prefer window seats.',
        '## Recent conversation',
        '- [2026-01-01T09:10:00.000Z] assistant: Book me a flight.',
        '- [2026-01-01T09:11:00.000Z] user: Sure, which date?',
        '',
      ].join('\n'),
    );
    expect(out.tokens).toBe(countTokens(out.text));
    expect(out.included).toEqual([
      { key: key(1, 's0'), source: 'memory' },
      { key: key(3, 's0'), source: 'memory' },
      { key: key(10), source: 'recent' },
      { key: key(11), source: 'recent' },
    ]);
    expect(out.dropped).toEqual([]);
  });

  it('shows a turn that is both a memory and a recent turn once, in the conversation, and reports neither copy dropped', async () => {
    const shared = turn(5, 'The meeting moved to Friday.');
    const out = await assembler.assemble({
      memories: [{ ...memory(5, 0.95, shared.content), key: shared.key }, memory(2, 0.4, 'Unrelated.'), memory(2, 0.3, 'Unrelated.')],
      recent: [turn(4, 'When is the meeting?'), shared],
      maxTokens: 1000,
    });
    expect(out.text.match(/The meeting moved to Friday/g)).toHaveLength(1);
    expect(out.text.match(/Unrelated/g)).toHaveLength(1);
    expect(out.included).toEqual([
      { key: key(2, 's0'), source: 'memory' },
      { key: key(4), source: 'recent' },
      { key: key(5), source: 'recent' },
    ]);
    expect(out.dropped).toEqual([]);
    expect(out.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 0, recent: 0 });
  });

  it('reserves a quarter for the newest turns, fills with memories by score, then adds older turns', async () => {
    const words = (n: number, w: string) => Array(n).fill(w).join(' ');
    const recent = [turn(20, words(30, 'old')), turn(21, words(30, 'mid')), turn(22, words(30, 'new'))];
    const memories = [memory(1, 0.9, words(150, 'best')), memory(2, 0.8, words(150, 'second')), memory(3, 0.2, words(20, 'small'))];
    // Block costs in o200k: a section header 4, a 30-word turn 51, a 150-word memory 178, the 20-word one 48.
    const maxTokens = 370;
    const out = await assembler.assemble({ memories, recent, maxTokens, order: ['reserve', 'memories', 'summary', 'recent'] });
    // (1) 25% of 370 = 92: header + 'new' = 55; 'mid' would make 106.
    // (2) 'best' (4 + 178) makes 237; 'second' would make 415; the smaller 'small' still fits: 285.
    // (3) Leftover: 'mid' makes 336; 'old' would make 387.
    expect(out.included).toEqual([
      { key: key(1, 's0'), source: 'memory' },
      { key: key(3, 's0'), source: 'memory' },
      { key: key(21), source: 'recent' },
      { key: key(22), source: 'recent' },
    ]);
    expect(out.tokens).toBe(336);
    expect(out.dropped).toEqual([
      { key: key(2, 's0'), source: 'memory' },
      { key: key(20), source: 'recent' },
    ]);
    expect(out.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 1, recent: 1 });
    expect(out.tokens).toBe(countTokens(out.text));
  });

  it('counts the preamble in the budget and leaves it out, reported, when it does not fit', async () => {
    const preamble = 'You are an assistant with long-term memory. Use the memories below when they are relevant.\n';
    const cost = countTokens(preamble);
    const fits = await assembler.assemble({ memories: [], recent: [turn(1, 'hi')], preamble, maxTokens: cost });
    expect(fits.text).toBe(preamble);
    expect(fits.tokens).toBe(cost);
    expect(fits.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 0, recent: 1 });
    const tight = await assembler.assemble({ memories: [], recent: [turn(1, 'hi')], preamble, maxTokens: cost - 1 });
    expect(tight.text).not.toContain('assistant with long-term memory');
    expect(tight.tokens).toBeLessThanOrEqual(cost - 1);
    expect(tight.tokens).toBe(countTokens(tight.text));
    expect(tight.droppedParts.preamble).toBe(1);
  });

  it('puts the summary after the preamble, whole or not at all, in the order it is given', async () => {
    const summary = { text: 'Ada planned a trip to Lisbon.\nShe booked the flight for May 3.', fromSeq: 1, toSeq: 40 };
    const recent = [turn(41, 'Which hotel?')];
    const memories = [memory(7, 0.9, 'I like hotels near the river.')];
    const out = await assembler.assemble({ memories, recent, summary, preamble: 'Instructions.\n', maxTokens: 1000 });
    expect(out.text).toBe(
      [
        'Instructions.',
        '## Summary of the earlier conversation',
        '- (turns 1-40) Ada planned a trip to Lisbon.',
        '  She booked the flight for May 3.',
        '## Relevant memories',
        '- [2026-01-01T09:07:00.000Z] user (similarity 0.900): I like hotels near the river.',
        '## Recent conversation',
        '- [2026-01-01T09:41:00.000Z] user: Which hotel?',
        '',
      ].join('\n'),
    );
    expect(out.tokens).toBe(countTokens(out.text));
    const summaryCost = countTokens(out.sections.summary);
    // Room for the summary or the memory, not both: the order decides which goes first.
    const maxTokens = countTokens('Instructions.\n') + summaryCost + 5;
    const summaryFirst = await assembler.assemble({ memories, recent: [], summary, preamble: 'Instructions.\n', maxTokens, order: ['summary', 'memories'] });
    expect(summaryFirst.sections.summary).not.toBe('');
    expect(summaryFirst.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 1, recent: 0 });
    const memoriesFirst = await assembler.assemble({ memories, recent: [], summary, preamble: 'Instructions.\n', maxTokens, order: ['memories', 'summary'] });
    expect(memoriesFirst.sections.summary).toBe('');
    expect(memoriesFirst.droppedParts).toEqual({ preamble: 0, summary: 1, memories: 0, recent: 0 });
  });

  it('fills memories first by default (the order bench:context measured best), then the newest turns with what is left', async () => {
    const words = (n: number, w: string) => Array(n).fill(w).join(' ');
    const recent = [turn(20, words(30, 'old')), turn(21, words(30, 'mid')), turn(22, words(30, 'new'))];
    const memories = [memory(1, 0.9, words(150, 'best')), memory(2, 0.8, words(150, 'second')), memory(3, 0.2, words(20, 'small'))];
    // 'best' 182 and 'second' 178 make 360 of 370; 'small' (48) and every turn (55) no longer fit.
    const out = await assembler.assemble({ memories, recent, maxTokens: 370 });
    expect(out.included).toEqual([
      { key: key(1, 's0'), source: 'memory' },
      { key: key(2, 's0'), source: 'memory' },
    ]);
    expect(out.droppedParts).toEqual({ preamble: 0, summary: 0, memories: 1, recent: 3 });
    expect(out.tokens).toBe(countTokens(out.text));
  });

  it('keeps the conversation without gaps: stops at the first recent turn that does not fit', async () => {
    const recent = [turn(1, 'short'), turn(2, 'x '.repeat(500)), turn(3, 'latest')];
    const out = await assembler.assemble({ memories: [], recent, maxTokens: 200 });
    expect(out.included).toEqual([{ key: key(3), source: 'recent' }]);
    expect(out.dropped.map((d) => d.key)).toEqual([key(1), key(2)]);
  });

  it('drops a memory too big for the budget instead of cutting it', async () => {
    const big = memory(1, 0.99, 'lorem ipsum '.repeat(400));
    const out = await assembler.assemble({ memories: [big, memory(2, 0.1, 'fits')], recent: [], maxTokens: 100 });
    expect(out.text).not.toContain('lorem');
    expect(out.text).toContain('fits');
    expect(out.dropped).toEqual([{ key: big.key, source: 'memory' }]);
  });

  it('counts unicode exactly and keeps every character', async () => {
    const content = 'Café ☕ naïve 日本語のテキスト 👋🏽 e\u0301 <|endoftext|>';
    const out = await assembler.assemble({ memories: [memory(1, 0.7, content)], recent: [turn(2, '¿Qué tal? 🙂')], maxTokens: 500 });
    expect(out.text).toContain(content);
    expect(out.text).toContain('¿Qué tal? 🙂');
    expect(out.tokens).toBe(countTokens(out.text));
  });

  it('returns an empty context for a zero budget and rejects a bad one', async () => {
    const out = await assembler.assemble({ memories: [memory(1, 0.5, 'a')], recent: [turn(2, 'b')], maxTokens: 0 });
    expect(out).toEqual({
      text: '',
      sections: { preamble: '', summary: '', memories: '', recent: '' },
      tokens: 0,
      included: [],
      dropped: [{ key: key(1, 's0'), source: 'memory' }, { key: key(2), source: 'recent' }],
      droppedParts: { preamble: 0, summary: 0, memories: 1, recent: 1 },
    });
    await expect(assembler.assemble({ memories: [], recent: [], maxTokens: -1 })).rejects.toThrow(InvalidInputError);
    await expect(assembler.assemble({ memories: [], recent: [], maxTokens: 10.5 })).rejects.toThrow(/maxTokens/);
  });

  describe('on random input', () => {
    const content = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.string({ unit: fc.constantFrom(' ', '\n', '\r', '/', '-', '#', 'word', '日本', '👋🏽', '<|endoftext|>', "'s", '.', '\t'), maxLength: 40 }),
    );
    // Some contents repeated into long texts, so budgets up to 100,000 tokens are tight too.
    const text = fc.oneof({ weight: 4, arbitrary: content }, { weight: 1, arbitrary: fc.tuple(content, fc.integer({ min: 1, max: 1500 })).map(([c, n]) => `${c} `.repeat(n)) });
    const seqs = fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 14 });
    const steps = fc.shuffledSubarray(['reserve', 'summary', 'memories', 'recent'] as FillStep[], { minLength: 0, maxLength: 4 });
    interface RandomInput {
      memorySeqs: number[];
      recentSeqs: number[];
      contents: string[];
      scores: number[];
      maxTokens: number;
      preamble: string;
      summary: string | null;
      order: readonly FillStep[];
    }
    const input: fc.Arbitrary<RandomInput> = fc.record({
      memorySeqs: seqs,
      recentSeqs: seqs,
      contents: fc.array(text, { minLength: 61, maxLength: 61 }),
      scores: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 61, maxLength: 61 }),
      maxTokens: fc.oneof(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 100_000 })),
      preamble: fc.oneof(fc.constant(''), content.map((c) => `${c.trim() || 'Instructions.'}\n`)),
      summary: fc.option(text, { nil: null }),
      order: fc.oneof(fc.constant<FillStep[]>([...DEFAULT_FILL_ORDER]), steps),
    });
    // One session: a memory and a recent turn with the same seq are the same turn (same key).
    const build = ({ memorySeqs, recentSeqs, contents, scores, maxTokens, preamble, summary, order }: RandomInput) => ({
      memories: memorySeqs.map((s) => ({ ...memory(s, scores[s], contents[s]), key: key(s) })),
      recent: recentSeqs.map((s) => turn(s, contents[s])),
      maxTokens,
      preamble,
      order,
      ...(summary === null ? {} : { summary: { text: summary, fromSeq: 1, toSeq: 9 } }),
    });

    it('never exceeds a budget from 0 to 100,000 tokens, preamble and summary included, and reports the exact token count of the text', async () => {
      await fc.assert(
        fc.asyncProperty(input, async (raw) => {
          const out = await assembler.assemble(build(raw));
          expect(out.tokens).toBe(countTokens(out.text));
          expect(out.tokens).toBeLessThanOrEqual(raw.maxTokens);
          expect(out.text).toBe(out.sections.preamble + out.sections.summary + out.sections.memories + out.sections.recent);
        }),
        { numRuns: 300 },
      );
    });

    it('shows each key once, accounts for every key, and keeps chronological sections', async () => {
      await fc.assert(
        fc.asyncProperty(input, async (raw) => {
          const built = build(raw);
          const { memories, recent } = built;
          const out = await assembler.assemble(built);
          const shown = out.included.map((i) => i.key);
          expect(new Set(shown).size).toBe(shown.length);
          const offered = new Set([...memories, ...recent].map((x) => x.key));
          const dropped = out.dropped.map((d) => d.key);
          expect(new Set(dropped).size).toBe(dropped.length);
          expect(new Set([...shown, ...dropped])).toEqual(offered);
          expect(dropped.filter((k) => shown.includes(k))).toEqual([]);
          expect(out.droppedParts.memories + out.droppedParts.recent).toBe(dropped.length);
          expect(out.droppedParts.preamble).toBe(raw.preamble !== '' && out.sections.preamble === '' ? 1 : 0);
          expect(out.droppedParts.summary).toBe(built.summary && built.summary.text.trim() && out.sections.summary === '' ? 1 : 0);
          for (const source of ['memory', 'recent'] as const) {
            const seqOf = out.included.filter((i) => i.source === source).map((i) => Number(i.key.split(':').pop()));
            expect(seqOf).toEqual([...seqOf].sort((a, b) => a - b));
          }
          const sources = out.included.map((i) => i.source);
          expect(sources).toEqual([...sources].sort()); // 'memory' items before 'recent' ones
          // Recent turns shown form the newest run of the session, apart from turns shown as memories.
          const shownRecent = new Set(out.included.filter((i) => i.source === 'recent').map((i) => i.key));
          const newestFirst = [...recent].sort((a, b) => b.seq - a.seq).filter((t) => !out.included.some((i) => i.key === t.key && i.source === 'memory'));
          expect(newestFirst.slice(0, shownRecent.size).every((t) => shownRecent.has(t.key))).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('is deterministic whatever the input order', async () => {
      await fc.assert(
        fc.asyncProperty(input, fc.integer(), async (raw, seed) => {
          const a = build(raw);
          const shuffle = <T>(xs: T[]) => xs.map((x, i) => ({ x, k: (i * 7919 + seed) % 104729 })).sort((p, q) => p.k - q.k).map((p) => p.x);
          const b = { ...a, memories: shuffle(a.memories), recent: shuffle(a.recent) };
          const outA = await assembler.assemble(a);
          const outB = await assembler.assemble(b);
          expect(outB.text).toBe(outA.text);
          expect(outB.included).toEqual(outA.included);
        }),
        { numRuns: 200 },
      );
    });
  });
});
