import { STOP_WORDS, words } from '../vector/text-terms';

/**
 * A transcript's speaker label at the start of a turn: one to three capitalised words and a colon ("Melanie: ...",
 * "Dr Ada Lovelace: ..."), the usual way a conversation of several people is kept under one role. Longer labels are
 * sentences ("Here is the plan: ..."), not names.
 */
const LABEL = /^\s*(\p{Lu}[\p{L}\p{M}\p{N}'’.-]*(?: \p{Lu}[\p{L}\p{M}\p{N}'’.-]*){0,2}):\s/u;

/** The speaker a turn's content names, read at write time and stored with the turn; undefined when it names none. */
export function speakerOf(content: string): string | undefined {
  return LABEL.exec(content.slice(0, 120))?.[1];
}

/** True when the query (its lowercased words) names the speaker: any word of the label that is not a function word. */
export const namesSpeaker = (queryWords: ReadonlySet<string>, speaker: string | undefined): boolean =>
  speaker !== undefined && words(speaker).some((w) => !STOP_WORDS.has(w) && queryWords.has(w));
