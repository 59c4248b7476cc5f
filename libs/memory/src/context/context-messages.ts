import type { StoredTurn } from '../store/turn';
import type { ContextAssembler } from './context-assembler';
import type { MemoryContext, RetrievedMemory } from './memory-context';
import { countTokens } from './tokenizer';

/** The system message's instructions; the relevant memories follow them. */
export const MEMORY_PREAMBLE = [
  'You are an assistant with long-term memory.',
  'The memories below are earlier conversation turns, and long-term memories learnt from them, retrieved for the current message.',
  'Use them when they are relevant, quote names and figures exactly as they appear there,',
  'and say so when they do not hold what the user asks about. Never invent memories.',
].join(' ');

const NO_MEMORIES = '(no stored memory is relevant to this message)';

/** Tokens kept back from the assembler's budget so the system message, preamble included, fits as well. */
const PREAMBLE_TOKENS = countTokens(`${MEMORY_PREAMBLE}\n\n${NO_MEMORIES}`);

/** Packs memories and recent turns into `maxTokens` (see ContextAssembler) and renders them both ways. */
export async function buildMemoryContext(
  assembler: ContextAssembler,
  input: { memories: RetrievedMemory[]; recent: StoredTurn[]; maxTokens: number },
): Promise<MemoryContext> {
  const assembled = await assembler.assemble({ ...input, maxTokens: Math.max(0, input.maxTokens - PREAMBLE_TOKENS) });
  const shown = new Set(assembled.included.filter((i) => i.source === 'recent').map((i) => i.key));
  const recent = input.recent.filter((t) => shown.has(t.key)).sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  return {
    messages: [
      { role: 'system', content: `${MEMORY_PREAMBLE}\n\n${assembled.sections.memories.trimEnd() || NO_MEMORIES}` },
      ...recent.map((t) => ({ role: t.role, content: t.content })),
    ],
    text: assembled.text,
    tokens: assembled.tokens,
    dropped: assembled.dropped.filter((d) => d.reason === 'budget').length,
  };
}
