import { MEMORY_PREAMBLE } from '../context/context-messages';
import { LocalEmbedder } from '../embedding/local-embedder';
import type { LlmProvider, LlmRequest } from './llm-provider';
import { dot } from '../vector/in-process/vector-mirror';

const LABEL = 'offline extractive responder';
const PREFIX = `[${LABEL}]`;
/** At most this many sentences are quoted. */
const MAX_SENTENCES = 3;
/** Below this cosine a sentence shares too little with the question to count as an answer (unrelated texts score about ±0.1). */
const MIN_SCORE = 0.15;
/** A stored question rarely answers the current one, so it ranks behind statements with the same overlap. */
const QUESTION_PENALTY = 0.5;

const NOTHING_STORED = `${PREFIX} I have nothing stored to answer from yet.`;
const NOTHING_MATCHES = `${PREFIX} None of the stored memories matches this question.`;

/** Sentences, without the bullets and header lines of this responder's own earlier answers (they are stored too). */
const splitSentences = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim().replace(/^-\s+/, ''))
    .filter((s) => s.length > 0 && !s.startsWith(PREFIX));

/** The context without its markdown and instructions: preamble and section headings dropped, bullets unwrapped (the assembler renders "## ..." and "- ..."). */
const contextLines = (context: string): string =>
  context
    .split('\n')
    .filter((line) => !line.startsWith('#') && line !== MEMORY_PREAMBLE)
    .map((line) => line.replace(/^\s*-\s+/, ''))
    .join('\n');

/**
 * The offline LLM: no model at all. It quotes, verbatim, the stored sentences that overlap the question most
 * (scored with the offline lexical embedder), so exact facts such as "552 tCO2e" come back unchanged,
 * and it says plainly that it is the offline extractive responder.
 */
export class LocalResponder implements LlmProvider {
  readonly name = 'local' as const;
  readonly label = LABEL;
  private readonly embedder = new LocalEmbedder(512);

  async complete(req: LlmRequest): Promise<string> {
    return this.answer(req).join('');
  }

  async *stream(req: LlmRequest): AsyncIterable<string> {
    yield* this.answer(req);
  }

  /** Its two non-answers: stored, they would fill later chats' memories with themselves. */
  isNonAnswer(reply: string): boolean {
    return reply === NOTHING_STORED || reply === NOTHING_MATCHES;
  }

  /** The answer as segments: a header line, then one line per quoted sentence. */
  private answer(req: LlmRequest): string[] {
    const candidates = this.candidates(req);
    if (candidates.length === 0) return [NOTHING_STORED];
    const q = this.embedder.embedOne(req.question);
    const best = candidates
      .map((text) => ({ text, score: dot(q, this.embedder.embedOne(text)) * (text.endsWith('?') ? QUESTION_PENALTY : 1) }))
      .filter((c) => c.score >= MIN_SCORE)
      .sort((a, b) => b.score - a.score)
      .slice(0, MAX_SENTENCES);
    if (best.length === 0) return [NOTHING_MATCHES];
    return [`${PREFIX} From the stored memories:`, ...best.map((c) => `\n- ${c.text}`)];
  }

  /**
   * Sentences of the memories, then those of the context that are not already among them (the context usually
   * repeats the memories with a role/time prefix, so containment either way counts as the same sentence).
   * The question itself is left out: the current message may already be stored (possibly behind a prefix).
   */
  private candidates(req: LlmRequest): string[] {
    const question = req.question.trim().toLowerCase();
    const fromMemories = [...new Set(req.memories.flatMap((m) => splitSentences(m.content)))];
    const fromContext = splitSentences(contextLines(req.context)).filter((c) => !fromMemories.some((m) => c.includes(m) || m.includes(c)));
    return [...fromMemories, ...new Set(fromContext)].filter((s) => question === '' || !s.toLowerCase().endsWith(question));
  }
}
