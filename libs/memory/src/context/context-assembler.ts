import { InvalidInputError } from '../errors/invalid-input.error';
import type { StoredTurn } from '../store/turn';
import type { ContextPart, ContextSummary, RetrievedMemory } from './memory-context';
import { countTokens, countTokensSliced } from './tokenizer';

/**
 * The order the budget is filled in after the preamble: 'reserve' is the newest turns within RECENT_SHARE of the
 * budget, 'recent' the older ones with what is left. The default is the order bench:context measured best on LoCoMo
 * (docs/benchmarks/context.md); the bench passes others to compare.
 */
export type FillStep = 'reserve' | 'summary' | 'memories' | 'recent';
export const DEFAULT_FILL_ORDER: readonly FillStep[] = ['memories', 'reserve', 'summary', 'recent'];

export interface AssembleInput {
  /** Retrieved memories, any order; the best scores are preferred. */
  memories: RetrievedMemory[];
  /** The session's latest turns, any order; the newest are preferred. */
  recent: StoredTurn[];
  /** The session's summary of its turns before the recent window, if it has one. */
  summary?: ContextSummary;
  /** Instructions put first (ending in a blank line), when they fit. */
  preamble?: string;
  /** Budget for the whole text, preamble and headers included, in o200k tokens. */
  maxTokens: number;
  order?: readonly FillStep[];
}

export interface AssembledContext {
  /** The preamble, then the summary, memories and recent sections. */
  text: string;
  sections: Record<ContextPart, string>;
  /** The exact token count of `text`. */
  tokens: number;
  /** The memories and recent turns in the text, in text order; each key once. */
  included: { key: string; source: 'memory' | 'recent' }[];
  /** Each offered key left out for the budget, once; a key offered twice and shown once is shown, not dropped. */
  dropped: { key: string; source: 'memory' | 'recent' }[];
  /** What was left out, by part: the preamble and summary count 1 each when they did not fit. */
  droppedParts: Record<ContextPart, number>;
}

/** Share of the budget reserved for the newest turns (the 'reserve' step). */
export const RECENT_SHARE = 0.25;

const SUMMARY_HEADER = '## Summary of the earlier conversation\n';
const MEMORY_HEADER = '## Relevant memories\n';
const RECENT_HEADER = '## Recent conversation\n';

interface Candidate {
  key: string;
  source: 'memory' | 'recent';
  timestamp: number;
  seq: number;
  block: string;
  /** Tokens of the block (and, for a recent turn, at least those of its content as a chat message of its own). */
  tokens: number;
  /** Tokens of the block alone, which the text is counted by. */
  textTokens: number;
}
type Block = Omit<Candidate, 'tokens' | 'textTokens'>;

/**
 * Packs a preamble, a session summary, memories and recent turns into a token budget, deterministically.
 *
 * The preamble goes first, if it fits; then the steps of `order`: 'reserve' the newest turns, newest first, within
 * RECENT_SHARE of the budget; 'summary' the summary, whole or not at all; 'memories' by score, skipping any that no
 * longer fit (a smaller one may still fit); 'recent' older turns with what is left. Recent turns stop at the first that
 * does not fit, so the conversation shown has no gaps. A key is shown once: a memory that is also one of the recent
 * turns is left to a recent step when one follows (so it is shown in the conversation), and a recent turn already shown
 * as a memory is skipped; either way it is shown, so not dropped. Nothing is truncated. A recent turn costs the more of
 * its block and its bare content, so the chat messages made of the same parts fit the budget as well.
 *
 * Every block ends with a newline and the next starts with '-' or '#', a point where o200k's pre-tokenizer always
 * splits, so the tokens of the text are exactly the sum of the tokens of its blocks (the property test checks this
 * against a count of the whole text).
 */
export class ContextAssembler {
  private readonly headerTokens = {
    summary: countTokens(SUMMARY_HEADER),
    memory: countTokens(MEMORY_HEADER),
    recent: countTokens(RECENT_HEADER),
  };

  async assemble({ memories, recent, summary, preamble = '', maxTokens, order = DEFAULT_FILL_ORDER }: AssembleInput): Promise<AssembledContext> {
    if (!Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new InvalidInputError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
    }
    const sortedRecent = [...recent].sort(newestFirst);
    const blocks = [
      ...sortedRecent.map(recentBlock),
      ...[...memories].sort((a, b) => b.score - a.score || b.similarity - a.similarity || newestFirst(a, b)).map(memoryBlock),
    ];
    const summaryBlock = summary && summary.text.trim() ? `${SUMMARY_HEADER}${summaryBody(summary)}` : '';
    // Turns are up to 32,000 characters each: counted time-sliced, so other jobs' searches go on meanwhile.
    const [preambleTokens, summaryTokens, ...tokens] = await countTokensSliced([
      preamble,
      summaryBlock,
      ...blocks.map((b) => b.block),
      ...sortedRecent.map((t) => t.content),
    ]);
    const counted: Candidate[] = blocks.map((b, i) => {
      const own = i < recent.length ? tokens[blocks.length + i] : 0;
      return { ...b, textTokens: tokens[i], tokens: Math.max(tokens[i], own) };
    });
    const newest = counted.slice(0, recent.length);
    const bestFirst = counted.slice(recent.length);
    const chosen = new Map<string, Candidate>();
    let used = 0;
    const fits = (cost: number, limit = maxTokens) => used + cost <= limit;

    const withPreamble = preamble !== '' && fits(preambleTokens);
    if (withPreamble) used += preambleTokens;
    let withSummary = false;

    /** The sections that have an item, so that each header is paid for once. */
    const opened = new Set<Candidate['source']>();
    /** Adds `c` if it fits under `limit`, paying for its section header with its first item. */
    const tryTake = (c: Candidate, limit: number): boolean => {
      const cost = c.tokens + (opened.has(c.source) ? 0 : this.headerTokens[c.source]);
      if (!fits(cost, limit)) return false;
      chosen.set(c.key, c);
      opened.add(c.source);
      used += cost;
      return true;
    };
    // A recent turn already shown as a memory is skipped, not a stop: the conversation still reads without gaps.
    const takeNewest = (limit: number) => newest.every((c) => chosen.has(c.key) || tryTake(c, limit));
    const steps: Record<FillStep, (recentFollows: boolean) => void> = {
      reserve: () => takeNewest(Math.min(maxTokens, used + Math.floor(maxTokens * RECENT_SHARE))),
      summary: () => {
        if (summaryBlock === '' || withSummary || !fits(summaryTokens)) return;
        withSummary = true;
        used += summaryTokens;
      },
      memories: (recentFollows: boolean) => {
        for (const m of bestFirst) if (!chosen.has(m.key) && !(recentFollows && recentKeys.has(m.key))) tryTake(m, maxTokens);
      },
      recent: () => takeNewest(maxTokens),
    };
    const recentKeys = new Set(newest.map((c) => c.key));
    order.forEach((step, i) => steps[step](order.slice(i + 1).some((s) => s === 'reserve' || s === 'recent')));

    const section = (source: Candidate['source'], header: string) => {
      const items = [...chosen.values()].filter((c) => c.source === source).sort((a, b) => newestFirst(b, a));
      return { items, text: items.length === 0 ? '' : header + items.map((c) => c.block).join('') };
    };
    const mem = section('memory', MEMORY_HEADER);
    const rec = section('recent', RECENT_HEADER);
    const sections = { preamble: withPreamble ? preamble : '', summary: withSummary ? summaryBlock : '', memories: mem.text, recent: rec.text };
    const shownTokens = [...chosen.values()].reduce((sum, c) => sum + c.textTokens, 0);
    const headers = (mem.items.length ? this.headerTokens.memory : 0) + (rec.items.length ? this.headerTokens.recent : 0);
    const dropped = droppedKeys([...memories.map((m) => [m.key, 'memory'] as const), ...recent.map((t) => [t.key, 'recent'] as const)], chosen);
    return {
      text: sections.preamble + sections.summary + sections.memories + sections.recent,
      sections,
      tokens: (withPreamble ? preambleTokens : 0) + (withSummary ? summaryTokens : 0) + headers + shownTokens,
      included: [...mem.items, ...rec.items].map(({ key, source }) => ({ key, source })),
      dropped,
      droppedParts: {
        preamble: preamble !== '' && !withPreamble ? 1 : 0,
        summary: summaryBlock !== '' && !withSummary ? 1 : 0,
        memories: dropped.filter((d) => d.source === 'memory').length,
        recent: dropped.filter((d) => d.source === 'recent').length,
      },
    };
  }
}

/** Newest first by timestamp, then seq, then key (so equal timestamps still sort the same way every time). */
function newestFirst(a: { timestamp: number; seq: number; key: string }, b: { timestamp: number; seq: number; key: string }): number {
  return b.timestamp - a.timestamp || b.seq - a.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** The summary's lines as a bullet: "- (turns 1-40) ..." with continuation lines indented. */
function summaryBody(s: ContextSummary): string {
  return `- (turns ${s.fromSeq}-${s.toSeq}) ${body(s.text)}\n`;
}

/** A turn says who spoke; an extracted memory says it is one, and of which type (its time: since when it holds). */
function memoryBlock(m: RetrievedMemory): Block {
  const who = m.memory ? `long-term memory, ${m.memory.type}` : m.role;
  // Neighbours are part of the memory's block, so the budget counts them with it.
  const beside = (m.neighbours ?? []).map((n) => `  - [${iso(n.timestamp)}] ${n.seq < m.seq ? 'before' : 'after'}, ${n.role}: ${body(n.content)}\n`);
  return candidate(m, 'memory', `- [${iso(m.timestamp)}] ${who} (similarity ${m.similarity.toFixed(3)}): ${body(m.content)}\n${beside.join('')}`);
}

function recentBlock(t: StoredTurn): Block {
  return candidate(t, 'recent', `- [${iso(t.timestamp)}] ${t.role}: ${body(t.content)}\n`);
}

function candidate(x: { key: string; timestamp: number; seq: number }, source: Candidate['source'], block: string): Block {
  return { key: x.key, source, timestamp: x.timestamp, seq: x.seq, block };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Trimmed, with continuation lines indented under their bullet. */
const body = (content: string) => content.trim().replace(/\r\n|\r|\n/g, '\n  ');

/** Each offered key not shown, once, in offered order, with the list it was first offered in. */
function droppedKeys(offered: (readonly [string, 'memory' | 'recent'])[], chosen: Map<string, Candidate>): AssembledContext['dropped'] {
  const seen = new Map<string, 'memory' | 'recent'>();
  for (const [key, source] of offered) if (!chosen.has(key) && !seen.has(key)) seen.set(key, source);
  return [...seen].map(([key, source]) => ({ key, source }));
}
