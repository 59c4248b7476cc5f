export const RECALL_KS = [1, 5, 10, 25, 50] as const;
export type RecallAtK = Record<`@${(typeof RECALL_KS)[number]}`, number>;

/** Accumulates LoCoMo's retrieval recall: per question, the share of its evidence in the top k; averaged over questions. */
export class RecallTable {
  private readonly sums = new Map<string, { n: number; at: number[] }>();

  /** `ranked`: ids best first; `group`: e.g. 'all' and the question's category. */
  add(groups: string[], ranked: string[], evidence: string[]): void {
    const shares = RECALL_KS.map((k) => {
      const top = new Set(ranked.slice(0, k));
      return evidence.filter((e) => top.has(e)).length / evidence.length;
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
