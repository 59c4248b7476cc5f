import { InvalidInputError } from '../errors/invalid-input.error';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  count: number;
  mean: number;
}

/** One cumulative histogram bucket, as in `_bucket{le="..."}`: observations <= le (le may be Infinity). */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * Exact nearest-rank percentiles: the p-quantile is the ceil(p * n)-th smallest sample.
 * The rank is computed in integers (per ten thousand) so that e.g. P95 of 100 samples is the 95th, not the 96th.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) throw new InvalidInputError('percentiles need at least one sample');
  if (!samples.every(Number.isFinite)) throw new InvalidInputError('percentiles need finite samples');
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const at = (perTenThousand: number) => sorted[Math.max(1, Math.ceil((n * perTenThousand) / 10000)) - 1];
  return {
    p50: at(5000),
    p95: at(9500),
    p99: at(9900),
    p999: at(9990),
    count: n,
    mean: sorted.reduce((sum, x) => sum + x, 0) / n,
  };
}

/**
 * PromQL's histogram_quantile over classic buckets (Prometheus promql/quantile.go, bucketQuantile), so the
 * CLI report can be checked against the dashboard: linear interpolation inside the bucket holding rank q * total,
 * a lower bound of 0 for the first bucket, and the second-highest bound when the rank falls in +Inf.
 * NaN without a +Inf bucket, with fewer than two buckets or with no observations; -Inf/+Inf for q < 0 / q > 1.
 * (Prometheus also evens out float noise below 1e-12 relative between neighbouring counts; that changes nothing visible.)
 */
export function histogramQuantile(q: number, buckets: readonly CumulativeBucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length === 0) return NaN;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted[sorted.length - 1].le !== Infinity) return NaN;
  const bs = forceMonotonic(coalesce(sorted));
  if (bs.length < 2) return NaN;
  const total = bs[bs.length - 1].count;
  if (total === 0) return NaN;
  let rank = q * total;
  let b = bs.findIndex((x, i) => i < bs.length - 1 && x.count >= rank);
  if (b === -1) b = bs.length - 1;
  if (b === bs.length - 1) return bs[bs.length - 2].le;
  if (b === 0 && bs[0].le <= 0) return bs[0].le;
  let start = 0;
  let count = bs[b].count;
  if (b > 0) {
    start = bs[b - 1].le;
    count -= bs[b - 1].count;
    rank -= bs[b - 1].count;
  }
  return start + (bs[b].le - start) * (rank / count);
}

/** Cumulative buckets (with +Inf) of raw samples, as a prom-client histogram with these bounds would expose them. */
export function cumulativeBuckets(samples: readonly number[], bounds: readonly number[]): CumulativeBucket[] {
  return [...bounds, Infinity].map((le) => ({ le, count: samples.filter((s) => s <= le).length }));
}

/** Series with the same bound (e.g. le="1" and le="1.0") add up. Input sorted by le. */
function coalesce(sorted: CumulativeBucket[]): CumulativeBucket[] {
  const out: CumulativeBucket[] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last?.le === b.le) last.count += b.count;
    else out.push({ ...b });
  }
  return out;
}

/** Cumulative counts never decrease: a dip (inconsistent input) is raised to the running maximum. */
function forceMonotonic(bs: CumulativeBucket[]): CumulativeBucket[] {
  let max = bs[0].count;
  for (const b of bs) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  return bs;
}
