import type { Memory } from '../http/api-types';

export interface ProbeOutcome {
  /** 1-based position of the probe in the script. */
  step: number;
  question: string;
  evidence: string;
  answer: string;
  /** 1-based rank of the evidence turn among the retrieved memories; null when it was not retrieved. */
  rank: number | null;
  /** Whether the reply quotes the answer (informative: recall is judged on retrieval). */
  answered: boolean;
}

export interface Recall {
  hits: number;
  probes: number;
  /** hits / probes; null when the run held no probe. */
  recall: number | null;
}

/** Where the evidence turn (the user turn that said `evidenceText`) sits among the memories. */
export function evidenceRank(evidenceText: string, memories: readonly Memory[]): number | null {
  const i = memories.findIndex((m) => m.role === 'user' && m.content === evidenceText);
  return i < 0 ? null : i + 1;
}

export function recallOf(outcomes: readonly ProbeOutcome[]): Recall {
  const hits = outcomes.filter((o) => o.rank !== null).length;
  return { hits, probes: outcomes.length, recall: outcomes.length ? hits / outcomes.length : null };
}
