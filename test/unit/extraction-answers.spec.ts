import { ProviderError } from '@app/memory/errors/provider.error';
import { DECISIONS_SCHEMA, FACTS_SCHEMA, parseDecisions, parseFacts } from '../../apps/extractor/src/extract-memories/extraction-answers';

const fact = (over: Record<string, unknown> = {}) => ({ content: 'The user is vegetarian.', type: 'preference', entities: ['vegetarian'], sourceTurnIds: ['t1'], ...over });
const decision = (over: Record<string, unknown> = {}) => ({ candidate: 0, event: 'ADD', memoryId: null, content: null, ...over });

/** The reason a malformed answer fails with: a permanent ProviderError (the job fails at once, with it). */
function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'bad_response', retryable: false });
    return (err as Error).message;
  }
  throw new Error('expected a malformed answer');
}

describe("the extractor's LLM answers", () => {
  it('sends strict schemas: every property required, no others, no bounds a strict server may refuse', () => {
    for (const schema of [FACTS_SCHEMA, DECISIONS_SCHEMA]) {
      const text = JSON.stringify(schema);
      expect(text).not.toMatch(/"(minLength|maxLength|minimum|maximum|minItems|maxItems|\$schema)"/);
      const objects: Record<string, unknown>[] = [];
      const walk = (node: unknown): void => {
        if (node && typeof node === 'object') {
          if ((node as { type?: unknown }).type === 'object') objects.push(node as Record<string, unknown>);
          Object.values(node).forEach(walk);
        }
      };
      walk(schema);
      for (const o of objects) {
        expect(o.additionalProperties).toBe(false);
        expect([...(o.required as string[])].sort()).toEqual(Object.keys(o.properties as object).sort());
      }
    }
    expect(JSON.stringify(FACTS_SCHEMA)).toContain('"enum":["preference","fact","event","plan","relationship","goal","other"]');
  });

  it('takes facts that cite the turns sent, trimmed', () => {
    expect(parseFacts({ facts: [fact({ content: '  The user is vegetarian. ' })] }, new Set(['t1']))).toEqual([fact()]);
    expect(parseFacts({ facts: [] }, new Set(['t1']))).toEqual([]);
  });

  it('refuses a facts answer of another shape, with the reason', () => {
    const turns = new Set(['t1']);
    expect(reason(() => parseFacts({ facts: [fact({ sourceTurnIds: ['t9'] })] }, turns))).toMatch(/cites a turn id that is not among the turns sent/);
    expect(reason(() => parseFacts({ facts: [fact({ type: 'opinion' })] }, turns))).toMatch(/facts answer is malformed/);
    expect(reason(() => parseFacts({ facts: [fact({ sourceTurnIds: [] })] }, turns))).toMatch(/facts answer is malformed/);
    expect(reason(() => parseFacts({ facts: [fact({ content: '' })] }, turns))).toMatch(/facts answer is malformed/);
    expect(reason(() => parseFacts({ facts: [{ ...fact(), extra: 1 }] }, turns))).toMatch(/facts answer is malformed/);
    expect(reason(() => parseFacts({ facts: Array.from({ length: 101 }, () => fact()) }, turns))).toMatch(/facts answer is malformed/);
    expect(reason(() => parseFacts([fact()], turns))).toMatch(/facts answer is malformed/);
  });

  // Issue 21 item 5: the reason is a failed job's failedReason, kept in Redis; an answer that echoes the turns must not
  // leave them there after a DELETE.
  it('names no value or key of the answer in the reason', () => {
    const turns = new Set(['t1']);
    const echoes = [
      { facts: [{ ...fact(), 'zebra said my pin is 7731': 1 }] },
      { facts: [fact({ type: 'zebra pin 7731' })] },
      { facts: [fact({ sourceTurnIds: ['zebra pin 7731'] })] },
      { facts: [{ ...fact(), content: { zebra: 'pin 7731' } }] },
    ];
    for (const answer of echoes) expect(reason(() => parseFacts(answer, turns))).not.toMatch(/zebra|7731/);
    const neighbours = [new Set(['m1'])];
    expect(reason(() => parseDecisions({ decisions: [decision({ event: 'UPDATE', memoryId: 'zebra pin 7731', content: 'x' })] }, neighbours))).not.toMatch(/zebra|7731/);
  });

  it('orders decisions by candidate, and takes UPDATE and DELETE only of a neighbour of theirs', () => {
    const neighbours = [new Set(['m1']), new Set<string>()];
    const answer = { decisions: [decision({ candidate: 1, event: 'NOOP' }), decision({ event: 'UPDATE', memoryId: 'm1', content: 'The user is vegan.' })] };
    expect(parseDecisions(answer, neighbours).map((d) => d.event)).toEqual(['UPDATE', 'NOOP']);
    expect(reason(() => parseDecisions({ decisions: [decision({ event: 'DELETE', memoryId: 'm2' }), decision({ candidate: 1 })] }, neighbours))).toMatch(/DELETE of candidate 0 names a memory id that is not one of its neighbours/);
    expect(reason(() => parseDecisions({ decisions: [decision({ event: 'UPDATE' }), decision({ candidate: 1 })] }, neighbours))).toMatch(/names no memory id/);
    expect(reason(() => parseDecisions({ decisions: [decision()] }, neighbours))).toMatch(/candidate 1 has no decision/);
    expect(reason(() => parseDecisions({ decisions: [decision(), decision()] }, neighbours))).toMatch(/candidate 0 has two decisions/);
    expect(reason(() => parseDecisions({ decisions: [decision({ candidate: 2 })] }, neighbours))).toMatch(/candidate 2 does not exist/);
    expect(reason(() => parseDecisions({ decisions: [decision({ event: 'MERGE' })] }, neighbours))).toMatch(/decisions answer is malformed/);
  });

  // Issue 21, defect 8: an ADD or NOOP naming a memory id crashed the extractor with a TypeError (retried 5 times, 5
  // more pairs of LLM calls), and sourceTurnIds had no bound: one answer added 38 MiB to a memory.
  it('refuses an ADD or NOOP naming a memory that is not a neighbour, and takes a NOOP naming its neighbour', () => {
    const neighbours = [new Set(['m1'])];
    expect(reason(() => parseDecisions({ decisions: [decision({ memoryId: 'u.alice.AAAAAAAAAAAAAAAA' })] }, neighbours))).toMatch(/ADD of candidate 0 names a memory id that is not one of its neighbours/);
    expect(reason(() => parseDecisions({ decisions: [decision({ event: 'NOOP', memoryId: 'm9' })] }, neighbours))).toMatch(/NOOP of candidate 0 names a memory id that is not one of its neighbours/);
    expect(parseDecisions({ decisions: [decision({ event: 'NOOP', memoryId: 'm1' })] }, neighbours)).toEqual([decision({ event: 'NOOP', memoryId: 'm1' })]);
  });

  it('bounds every list of an answer and takes each item once', () => {
    const turnIds = new Set(['t1', 't2']);
    const [taken] = parseFacts({ facts: [fact({ sourceTurnIds: ['t1', 't2', 't1', 't1'], entities: ['tofu', 'tofu'] })] }, turnIds);
    expect([taken.sourceTurnIds, taken.entities]).toEqual([['t1', 't2'], ['tofu']]);
    expect(reason(() => parseFacts({ facts: [fact({ sourceTurnIds: Array(100_000).fill('t1') })] }, turnIds))).toMatch(/facts answer is malformed.*sourceTurnIds/);
    expect(reason(() => parseFacts({ facts: [fact({ sourceTurnIds: ['t'.repeat(1_000_000)] })] }, turnIds))).toMatch(/facts answer is malformed/);
    const many = Array.from({ length: 101 }, (_, i) => decision({ candidate: i }));
    expect(reason(() => parseDecisions({ decisions: many }, Array.from({ length: 101 }, () => new Set<string>())))).toMatch(/decisions answer is malformed/);
  });
});
