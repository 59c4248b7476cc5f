import { z } from 'zod';
import { parse, withoutBounds } from '../extract-memories/extraction-answers';

/** Longer than a summary needs to be: an answer past it is malformed. */
const MAX_SUMMARY_CHARS = 8000;

const summaryAnswer = z.strictObject({ summary: z.string().trim().min(1).max(MAX_SUMMARY_CHARS) });

/** The JSON schema sent as response_format (strict mode). */
export const SUMMARY_SCHEMA = withoutBounds(z.toJSONSchema(summaryAnswer, { target: 'draft-7' })) as Record<string, unknown>;

export const SUMMARY_INSTRUCTIONS = [
  'You keep the rolling summary of a long conversation, so that an assistant that sees only its latest turns still',
  'knows what came before. The input is JSON: {"previousSummary": string or null, "turns": [{"seq", "role", "time",',
  '"content"}]}: the summary so far and the turns that followed it, oldest first. Answer {"summary": ...}: one summary',
  'of the previous summary and the turns together, in the third person, at most about 400 words, that keeps what a',
  'later turn may refer to (who is who, decisions, plans, dates, names and figures exactly as stated, open questions)',
  'and drops small talk. Never add anything the conversation does not say.',
].join(' ');

/** The summary's text; a malformed answer fails the job for good. */
export const parseSummary = (value: unknown): string => parse(summaryAnswer, value, 'summary').summary;
