/** A difference of means between two runs over the same questions, with its 95% bootstrap interval. */
export interface PairedDifference {
  questions: number;
  /** mean(b) - mean(a) */
  difference: number;
  low: number;
  high: number;
}

/** mulberry32: a seeded generator, so that an interval is the same on every run of the same figures. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The paired bootstrap: questions are resampled with replacement, each keeping its pair of outcomes, and the 2.5th
 * and 97.5th percentiles of the resampled mean differences bound the interval. An interval clear of 0 is a difference
 * these questions can tell from noise.
 */
export function pairedBootstrap(a: number[], b: number[], resamples = 2000, seed = 1): PairedDifference {
  if (a.length !== b.length || a.length === 0) throw new Error(`paired runs need the same questions (${a.length} and ${b.length})`);
  const d = a.map((x, i) => b[i] - x);
  const random = seeded(seed);
  const means = Array.from({ length: resamples }, () => {
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += d[Math.floor(random() * d.length)];
    return sum / d.length;
  }).sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    questions: d.length,
    difference: round(d.reduce((s, x) => s + x, 0) / d.length),
    low: round(means[Math.floor(0.025 * resamples)]),
    high: round(means[Math.ceil(0.975 * resamples) - 1]),
  };
}
