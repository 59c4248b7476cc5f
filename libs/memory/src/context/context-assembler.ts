import { InvalidInputError } from '../errors/invalid-input.error';
import type { StoredTurn } from '../store/turn';
import type { RetrievedMemory } from './memory-context';
import { countTokens, countTokensSliced } from './tokenizer';

export interface AssembleInput {
  /** Retrieved memories, any order; the best scores are preferred. */
  memories: RetrievedMemory[];
  /** The session's latest turns, any order; the newest are preferred. */
  recent: StoredTurn[];
  /** Budget for the whole text, headers included, in o200k tokens. */
  maxTokens: number;
}

export interface AssembledContext {
  /** The memories section, then the recent section. */
  text: string;
  sections: { memories: string; recent: string };
  /** The exact token count of `text`. */
  tokens: number;
  /** What is in the text, in text order; each key once. */
  included: { key: string; source: 'memory' | 'recent' }[];
  /**
   * One entry per key left out ('budget'), and one per included key that was also offered by the other
   * list or twice ('duplicate': its other copy was left out).
   */
  dropped: { key: string; reason: 'budget' | 'duplicate' }[];
}

/** Share of the budget reserved for the newest turns before memories are considered. */
export const RECENT_SHARE = 0.25;

const MEMORY_HEADER = '## Relevant memories\n';
const RECENT_HEADER = '## Recent conversation\n';

interface Candidate {
  key: string;
  source: 'memory' | 'recent';
  timestamp: number;
  seq: number;
  block: string;
  tokens: number;
}
type Block = Omit<Candidate, 'tokens'>;

/**
 * Packs memories and recent turns into a token budget, deterministically.
 *
 * Priority: (1) the newest turns, newest first, within RECENT_SHARE of the budget; (2) memories by score,
 * skipping any that no longer fit (a smaller one may still fit); (3) older recent turns with what is left.
 * Recent turns stop at the first that does not fit, so the conversation shown has no gaps. A key is shown
 * once: a recent turn already shown makes its memory a duplicate, and vice versa. Nothing is truncated.
 *
 * Output: a "Relevant memories" section, then a "Recent conversation" section, each in chronological order,
 * one line per turn (continuation lines indented). Every block ends with a newline and the next starts with
 * '-' or '#', a point where o200k's pre-tokenizer always splits, so the tokens of the text are exactly the
 * sum of the tokens of its blocks (the property test checks this against a count of the whole text).
 */
export class ContextAssembler {
  private readonly headerTokens = { memory: countTokens(MEMORY_HEADER), recent: countTokens(RECENT_HEADER) };

  async assemble({ memories, recent, maxTokens }: AssembleInput): Promise<AssembledContext> {
    if (!Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new InvalidInputError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
    }
    const blocks = [
      ...[...recent].sort(newestFirst).map(recentBlock),
      ...[...memories].sort((a, b) => b.score - a.score || b.similarity - a.similarity || newestFirst(a, b)).map(memoryBlock),
    ];
    // Turns are up to 32,000 characters each: counted time-sliced, so other jobs' searches go on meanwhile.
    const tokens = await countTokensSliced(blocks.map((b) => b.block));
    const counted: Candidate[] = blocks.map((b, i) => ({ ...b, tokens: tokens[i] }));
    const newest = counted.slice(0, recent.length);
    const bestFirst = counted.slice(recent.length);
    const chosen = new Map<string, Candidate>();
    let used = 0;

    /** Adds `c` if it fits under `limit`, paying for its section header with its first item. */
    const tryTake = (c: Candidate, limit: number): boolean => {
      const opensSection = ![...chosen.values()].some((x) => x.source === c.source);
      const cost = c.tokens + (opensSection ? this.headerTokens[c.source] : 0);
      if (used + cost > limit) return false;
      chosen.set(c.key, c);
      used += cost;
      return true;
    };
    // A recent turn already shown as a memory is skipped, not a stop: the conversation still reads without gaps.
    const takeNewest = (limit: number) => newest.every((c) => chosen.has(c.key) || tryTake(c, limit));

    takeNewest(Math.floor(maxTokens * RECENT_SHARE));
    for (const m of bestFirst) if (!chosen.has(m.key)) tryTake(m, maxTokens);
    takeNewest(maxTokens);

    const section = (source: Candidate['source'], header: string) => {
      const items = [...chosen.values()].filter((c) => c.source === source).sort((a, b) => newestFirst(b, a));
      return { items, text: items.length === 0 ? '' : header + items.map((c) => c.block).join('') };
    };
    const mem = section('memory', MEMORY_HEADER);
    const rec = section('recent', RECENT_HEADER);
    return {
      text: mem.text + rec.text,
      sections: { memories: mem.text, recent: rec.text },
      tokens: used,
      included: [...mem.items, ...rec.items].map(({ key, source }) => ({ key, source })),
      dropped: droppedKeys([...memories, ...recent].map((x) => x.key), chosen),
    };
  }
}

/** Newest first by timestamp, then seq, then key (so equal timestamps still sort the same way every time). */
function newestFirst(a: { timestamp: number; seq: number; key: string }, b: { timestamp: number; seq: number; key: string }): number {
  return b.timestamp - a.timestamp || b.seq - a.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
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

/** Each offered key at most once, in offered order: 'budget' when it is not shown, 'duplicate' when it was offered twice and shown once. */
function droppedKeys(offered: string[], chosen: Map<string, Candidate>): AssembledContext['dropped'] {
  const seen = new Map<string, number>();
  for (const key of offered) seen.set(key, (seen.get(key) ?? 0) + 1);
  return [...seen]
    .filter(([key, n]) => !chosen.has(key) || n > 1)
    .map(([key]) => ({ key, reason: chosen.has(key) ? 'duplicate' : 'budget' }));
}
