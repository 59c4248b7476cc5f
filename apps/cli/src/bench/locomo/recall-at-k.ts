export const RECALL_KS = [1, 5, 10, 25, 50] as const;
export type RecallAtK = Record<`@${(typeof RECALL_KS)[number]}`, number>;

/** One question's outcome, kept for paired comparisons between runs and for the list of misses. */
export interface QuestionOutcome {
  /** The question's group besides 'all' (its category). */
  group: string;
  recall: RecallAtK;
  /** The 1-based rank of its best-ranked evidence turn, or null when none was returned. */
  bestRank: number | null;
}

/** Accumulates LoCoMo's retrieval recall: per question, the share of its evidence in the top k; averaged over questions. */
export class RecallTable {
  private readonly sums = new Map<string, { n: number; at: number[] }>();
  /** In the order asked: the same data file gives the same order, so two runs pair up question by question. */
  readonly outcomes: QuestionOutcome[] = [];

  /** `ranked`: ids best first; `group`: e.g. 'all' and the question's category. */
  add(groups: string[], ranked: string[], evidence: string[]): void {
    const shares = RECALL_KS.map((k) => {
      const top = new Set(ranked.slice(0, k));
      return evidence.filter((e) => top.has(e)).length / evidence.length;
    });
    const ranks = evidence.map((e) => ranked.indexOf(e)).filter((i) => i >= 0);
    this.outcomes.push({
      group: groups.at(-1)!,
      recall: Object.fromEntries(RECALL_KS.map((k, i) => [`@${k}`, shares[i]])) as RecallAtK,
      bestRank: ranks.length > 0 ? Math.min(...ranks) + 1 : null,
    });
    for (const g of groups) {
      const sum = this.sums.get(g) ?? { n: 0, at: RECALL_KS.map(() => 0) };
      sum.n++;
      shares.forEach((s, i) => (sum.at[i] += s));
      this.sums.set(g, sum);
    }
  }

  /** Group -> recall@k (3 decimals) and its question count. */
  result(): Record<string, RecallAtK & { questions: number }> {
    const out: Record<string, RecallAtK & { questions: number }> = {};
    for (const [g, { n, at }] of [...this.sums].sort(([a], [b]) => a.localeCompare(b))) {
      const row = Object.fromEntries(RECALL_KS.map((k, i) => [`@${k}`, Math.round((at[i] / n) * 1000) / 1000])) as RecallAtK;
      out[g] = { ...row, questions: n };
    }
    return out;
  }
}
