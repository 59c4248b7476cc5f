import * as chrono from 'chrono-node';

/** A span of time a text names, epoch ms, inclusive start and exclusive end. */
export interface DateSpan {
  start: number;
  end: number;
}

const DAY = 86_400_000;

/** The span a parsed date covers: the day it names, else its month, else its year (chrono fills the rest in). */
function spanOf(result: chrono.ParsedResult): DateSpan {
  const { start, end } = result;
  const from = start.date().getTime();
  const to = end?.date().getTime();
  if (to !== undefined && to > from) return { start: from, end: to + DAY };
  const y = start.get('year')!;
  const m = start.get('month')! - 1;
  if (start.isCertain('day') || start.isCertain('weekday')) {
    const day = Date.UTC(y, m, start.get('day')!);
    return { start: day, end: day + DAY };
  }
  if (start.isCertain('month')) return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  return { start: Date.UTC(y, 0, 1), end: Date.UTC(y + 1, 0, 1) };
}

// chrono's time grows with the text (≈15 ms for 32k characters of prose on a quiet core), and it runs on the event
// loops of the embedder and the retriever: it reads a bounded prefix, where a turn or a question names its dates.
const DATE_SCAN_CHARS = 2_000;

/** The dates and relative times a text names ("in May 2023", "last week", "yesterday"), read against `reference` (epoch ms, UTC). */
export function datesIn(text: string, reference: number): DateSpan[] {
  return chrono.en.parse(text.slice(0, DATE_SCAN_CHARS), { instant: new Date(reference), timezone: 0 }).map(spanOf);
}

// chrono's first parses compile its patterns: paid at start-up, not by a request. Twice: V8 compiles a regular
// expression to native code on its second run, and that compilation (120 ms on a quiet core) stalled the first search.
datesIn('yesterday', 0);
datesIn('yesterday', 0);

/** Asks for a time ("when did...", "what year..."): a turn that names one is then a better answer. */
export const asksWhen = (text: string): boolean => /\b(when|what (year|month|day|date|time)|how long ago)\b/i.test(text);

/** The first date a stored turn names, resolved against its timestamp, as epoch ms; undefined when it names none. */
export const eventDate = (content: string, timestamp: number): number | undefined => datesIn(content, timestamp)[0]?.start;
