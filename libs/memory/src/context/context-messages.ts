import type { StoredTurn } from '../store/turn';
import type { ContextAssembler, FillStep } from './context-assembler';
import type { ContextSummary, MemoryContext, RetrievedMemory } from './memory-context';

/** The system message's instructions; the summary and the relevant memories follow them. */
export const MEMORY_PREAMBLE = [
  'You are an assistant with long-term memory.',
  'The memories below are a summary of the earlier conversation, earlier conversation turns, and long-term memories learnt from them, retrieved for the current message.',
  'Use them when they are relevant, quote names and figures exactly as they appear there,',
  'and say so when they do not hold what the user asks about. Never invent memories.',
].join(' ');

/**
 * Packs the preamble, the session summary, memories and recent turns into `maxTokens` (see ContextAssembler) and
 * renders them both ways: a system message (preamble, summary, memories) then the recent turns as chat messages, and
 * the same as one text. The contents of the messages add up to at most the budget, and so does the text.
 */
export async function buildMemoryContext(
  assembler: ContextAssembler,
  input: { memories: RetrievedMemory[]; recent: StoredTurn[]; summary?: ContextSummary; maxTokens: number; order?: readonly FillStep[] },
): Promise<MemoryContext> {
  const assembled = await assembler.assemble({ ...input, preamble: `${MEMORY_PREAMBLE}\n` });
  const { preamble, summary, memories } = assembled.sections;
  const system = preamble + summary + memories;
  const shown = new Set(assembled.included.filter((i) => i.source === 'recent').map((i) => i.key));
  const turns = input.recent.filter((t) => shown.has(t.key)).sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  return {
    messages: [...(system === '' ? [] : [{ role: 'system' as const, content: system }]), ...turns.map((t) => ({ role: t.role, content: t.content }))],
    text: assembled.text,
    tokens: assembled.tokens,
    dropped: assembled.dropped.length,
    droppedParts: assembled.droppedParts,
    ...(summary === '' ? {} : { summary: input.summary }),
    included: assembled.included.map((i) => i.key),
  };
}
