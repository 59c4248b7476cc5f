import type { ChatResponse, HistoryTurn } from '../http/api-types';
import { formatMs } from './text-table';

/** The first line as is, every further line under the first one's text (`indent` spaces in). */
export const hangingIndent = (text: string, indent: number): string => text.split('\n').join(`\n${' '.repeat(indent)}`);

/** A cosine similarity for people: clamped to [-1, 1] (float error gives 1.0000000429), 3 decimals, never "-0.000". */
export function formatSimilarity(similarity: number): string {
  const s = Math.min(1, Math.max(-1, similarity)).toFixed(3);
  return s === '-0.000' ? '0.000' : s;
}

/** `label` then the text, continuation lines aligned under the text. */
const labelled = (label: string, text: string): string => `${label}${hangingIndent(text, label.length)}`;

/** The reply names its responder once: the offline responder's replies already begin with "[its name]". */
const speaker = (res: Pick<ChatResponse, 'reply' | 'responder'>): string =>
  res.reply.startsWith(`[${res.responder}]`) ? 'assistant: ' : `assistant (${res.responder}): `;

/** One answer of the REPL: with `verbose`, the memories and timings first. */
export function formatAnswer(res: ChatResponse, verbose: boolean): string {
  const lines: string[] = [];
  if (verbose) {
    lines.push(`  ${res.memories.length} memories (${res.contextTokens} context tokens, ${res.dropped} dropped):`);
    for (const m of res.memories) lines.push(labelled(`    sim ${formatSimilarity(m.similarity)}  #${m.seq} ${m.role}: `, m.content));
    const t = res.timings;
    lines.push(`  write ${formatMs(t.write)} · read ${formatMs(t.read)} · assemble ${formatMs(t.assemble)} · llm ${formatMs(t.llm)} · e2e ${formatMs(t.e2e)}`);
  }
  lines.push(labelled(speaker(res), res.reply));
  return lines.join('\n');
}

export const formatHistoryTurn = (t: HistoryTurn): string => labelled(`  #${t.seq} ${t.timestamp} ${t.role}: `, t.content);
