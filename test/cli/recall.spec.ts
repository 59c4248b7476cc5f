import type { Memory } from '../../apps/cli/src/http/api-types';
import { evidenceRank, recallOf } from '../../apps/cli/src/scenarios/recall';

const memory = (role: Memory['role'], content: string): Memory => ({
  turnId: 't1', sessionId: 's', userId: null, seq: 1, role, content, timestamp: '2026-01-01T00:00:00.000Z', metadata: {}, tags: [], similarity: 0.5, score: 0.5,
});

describe('recall', () => {
  it('ranks the evidence by its exact user turn, not by an assistant reply quoting it', () => {
    const said = 'My ticket is TKT-1';
    const memories = [memory('assistant', said), memory('user', 'other'), memory('user', said)];
    expect(evidenceRank(said, memories)).toBe(3);
    expect(evidenceRank(said, memories.slice(0, 2))).toBeNull();
  });

  it('computes recall over the probes run, and none when no probe ran', () => {
    const outcome = (rank: number | null) => ({ step: 1, question: 'q', evidence: 'e', answer: 'a', rank, answered: false });
    expect(recallOf([outcome(1), outcome(null), outcome(4), outcome(2)])).toEqual({ hits: 3, probes: 4, recall: 0.75 });
    expect(recallOf([])).toEqual({ hits: 0, probes: 0, recall: null });
  });
});
