import { z } from 'zod';
import { MEMORY_TYPES, ProviderError } from '@app/memory';

/** The most facts one extraction may state, and the longest fact: an answer past them is malformed. */
const MAX_FACTS = 100;
const MAX_FACT_CHARS = 2000;
const MAX_ENTITIES = 20;
/** The most turns one extraction sends (EXTRACT_MAX_TURNS's bound): a fact citing more ids is malformed. */
const MAX_SOURCE_TURNS = 500;
/** Far longer than any memory id (a prefix, a 64-character scope id, 16 characters). */
const MAX_ID_CHARS = 200;

export const DECISION_EVENTS = ['ADD', 'UPDATE', 'DELETE', 'NOOP'] as const;

/**
 * The two answers the extractor asks for. Each is validated twice in a way: the JSON schema sent with the request
 * (strict structured output, which a server may ignore) and the zod schema the answer is checked against here.
 */
const factsAnswer = z.strictObject({
  facts: z
    .array(
      z.strictObject({
        content: z.string().trim().min(1).max(MAX_FACT_CHARS),
        type: z.enum(MEMORY_TYPES),
        entities: z.array(z.string().trim().min(1).max(200)).max(MAX_ENTITIES),
        sourceTurnIds: z.array(z.string().max(MAX_ID_CHARS)).min(1).max(MAX_SOURCE_TURNS),
      }),
    )
    .max(MAX_FACTS),
});

const decisionsAnswer = z.strictObject({
  decisions: z
    .array(
      z.strictObject({
        candidate: z.number().int().min(0),
        event: z.enum(DECISION_EVENTS),
        memoryId: z.string().max(MAX_ID_CHARS).nullable(),
        content: z.string().trim().min(1).max(MAX_FACT_CHARS).nullable(),
      }),
    )
    .max(MAX_FACTS),
});

export type ExtractedFact = z.infer<typeof factsAnswer>['facts'][number];
export type Decision = z.infer<typeof decisionsAnswer>['decisions'][number];

/** Bounds that strict structured output does not take everywhere: the answer is checked against them here instead. */
const UNSENT = new Set(['$schema', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems']);
export const withoutBounds = (node: unknown): unknown =>
  Array.isArray(node)
    ? node.map(withoutBounds)
    : node !== null && typeof node === 'object'
      ? Object.fromEntries(Object.entries(node).filter(([k]) => !UNSENT.has(k)).map(([k, v]) => [k, withoutBounds(v)]))
      : node;

/** The JSON schemas sent as response_format (strict mode: every property required, no others allowed). */
export const FACTS_SCHEMA = withoutBounds(z.toJSONSchema(factsAnswer, { target: 'draft-7' })) as Record<string, unknown>;
export const DECISIONS_SCHEMA = withoutBounds(z.toJSONSchema(decisionsAnswer, { target: 'draft-7' })) as Record<string, unknown>;

export const FACTS_INSTRUCTIONS = [
  'You extract long-term memories from a conversation: facts about the user worth remembering in later conversations',
  '(preferences, facts about them and the people and things around them, events, plans, relationships, goals).',
  'The input is JSON: {"turns": [{"id", "role", "time", "content"}]}. State each fact once, in one self-contained',
  'sentence in the third person ("The user ..."), give its type, the entities it names, and the ids of the turns that',
  'state it (sourceTurnIds, taken from the input). Leave out small talk, questions and anything the assistant merely',
  'suggested. Answer {"facts": []} when there is nothing worth remembering.',
].join(' ');

export const DECISIONS_INSTRUCTIONS = [
  'You keep a memory store current. The input is JSON: {"candidates": [{"candidate", "content", "type", "neighbours":',
  '[{"memoryId", "content"}]}]}: newly extracted facts, each with the stored memories nearest to it. Decide for every',
  'candidate exactly one event: ADD when it is new; UPDATE when it refines or supersedes one of its neighbours (give',
  'that memoryId and the memory\'s new content, e.g. "lives in Paris" superseded by "moved to Berlin"); DELETE when it',
  'says a neighbour is no longer true and nothing new is left to keep (give that memoryId); NOOP when a neighbour',
  'already says it. memoryId is null for ADD and NOOP; content is null unless the event is UPDATE.',
].join(' ');

/**
 * Validates the facts answer against the turns it was asked about; a malformed answer fails the job for good. Lists
 * come back without repeats: an answer repeating a turn id thousands of times must not grow a memory by as much.
 */
export function parseFacts(value: unknown, turnIds: ReadonlySet<string>): ExtractedFact[] {
  const { facts } = parse(factsAnswer, value, 'facts');
  for (const fact of facts) {
    const unknown = fact.sourceTurnIds.find((id) => !turnIds.has(id));
    if (unknown !== undefined) throw malformed('facts', 'a fact cites a turn id that is not among the turns sent');
  }
  return facts.map((f) => ({ ...f, entities: [...new Set(f.entities)], sourceTurnIds: [...new Set(f.sourceTurnIds)] }));
}

/**
 * Validates the decisions: one per candidate; an UPDATE or DELETE names one of that candidate's neighbours
 * (`neighbours[i]`: the memory ids shown with candidate i), and an ADD or NOOP names none or one of them.
 */
export function parseDecisions(value: unknown, neighbours: readonly ReadonlySet<string>[]): Decision[] {
  const { decisions } = parse(decisionsAnswer, value, 'decisions');
  const byCandidate = new Map<number, Decision>();
  for (const d of decisions) {
    if (d.candidate >= neighbours.length) throw malformed('decisions', `candidate ${d.candidate} does not exist`);
    if (byCandidate.has(d.candidate)) throw malformed('decisions', `candidate ${d.candidate} has two decisions`);
    const needsOne = d.event === 'UPDATE' || d.event === 'DELETE';
    if (d.memoryId === null ? needsOne : !neighbours[d.candidate].has(d.memoryId)) {
      throw malformed('decisions', `${d.event} of candidate ${d.candidate} names ${d.memoryId === null ? 'no memory id' : 'a memory id that is not one of its neighbours'}`);
    }
    byCandidate.set(d.candidate, d);
  }
  const missing = neighbours.findIndex((_, i) => !byCandidate.has(i));
  if (missing >= 0) throw malformed('decisions', `candidate ${missing} has no decision`);
  return neighbours.map((_, i) => byCandidate.get(i)!);
}

/** `value` checked against `schema`; a malformed answer fails the job for good, with a reason that quotes none of it. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw malformed(what, result.error.issues.slice(0, 5).map(describeIssue).join('; '));
  return result.data;
}

/**
 * An issue by its code and where it is, never with the values or keys of the answer: the message becomes the job's
 * failedReason, kept in Redis, and an answer can echo the turns (which a DELETE must not leave behind).
 */
const describeIssue = (issue: z.core.$ZodIssue) => `${issue.code} at ${issue.path.length ? issue.path.join('.') : 'the top'}`;

/** The reason names no content (see describeIssue). */
const malformed = (what: string, reason: string) => new ProviderError('bad_response', `the LLM's ${what} answer is malformed: ${reason}`);
