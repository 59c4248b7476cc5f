import type { LatencySummary } from './latency-report';
import { summarize } from './latency-report';
import type { RequestSample, StressResult, TimelinePoint } from '../stress/run-stress';

/** The stress result reshaped for charts: per-second rates, per-second percentiles, histogram bins. */

type Cumulative = 'accepted' | 'stored' | 'indexed' | 'throttled' | 'shed' | 'errors';

/** The cumulative count at time t, read linearly between samples (null where the samples have none). */
function at(timeline: readonly TimelinePoint[], key: Cumulative, t: number): number | null {
  const after = timeline.findIndex((p) => p.t >= t);
  if (after < 0) return timeline.at(-1)?.[key] ?? null;
  const b = timeline[after];
  if (after === 0) return b[key];
  const a = timeline[after - 1];
  if (a[key] === null || b[key] === null) return null;
  return a[key]! + ((b[key]! - a[key]!) * (t - a.t)) / (b.t - a.t || 1);
}

/** Seconds per bin of the time charts: about 60 bins over the run, on a round step, at least half a second. */
export function binSeconds(durationS: number): number {
  return [0.5, 1, 2, 5, 10, 15, 30, 60].find((step) => durationS / step <= 60) ?? 60;
}

export interface BinValue {
  /** The middle of the bin, so a line is drawn where the rate was. */
  t: number;
  value: number;
}

/** Turns (or failures) per second over each bin: the cumulative count's increase over the bin, divided by its length. */
export function ratePerSecond(timeline: readonly TimelinePoint[], key: Cumulative, bin: number): BinValue[] {
  const end = timeline.at(-1)?.t ?? 0;
  const out: BinValue[] = [];
  for (let from = 0; from < end; from += bin) {
    const [a, b] = [at(timeline, key, from), at(timeline, key, Math.min(from + bin, end))];
    const length = Math.min(from + bin, end) - from;
    if (a !== null && b !== null && length > 0) out.push({ t: from + length / 2, value: Math.max(0, b - a) / length });
  }
  return out;
}

export interface BinPercentiles {
  t: number;
  p50: number;
  p99: number;
  count: number;
}

/** P50 and P99 of the requests answered within each bin. */
export function latencyPerBin(requests: readonly RequestSample[], bin: number): BinPercentiles[] {
  const byBin = new Map<number, number[]>();
  for (const r of requests) {
    const i = Math.floor(r.t / bin);
    if (!byBin.has(i)) byBin.set(i, []);
    byBin.get(i)!.push(r.ms);
  }
  return [...byBin.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, ms]) => {
      const q = summarize(ms);
      return { t: (i + 0.5) * bin, p50: q.p50, p99: q.p99, count: q.count };
    });
}

/** 1-2-5 steps (1, 2, 5, 10, 20, …): round tick values for a log axis spanning [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(Math.max(min, 1e-3))); decade <= max * 10; decade *= 10) {
    for (const step of [1, 2, 5]) {
      const v = Number((decade * step).toPrecision(1));
      if (v >= min / 2.5 && v <= max * 2.5) ticks.push(v);
    }
  }
  return ticks;
}

export interface Bin {
  from: number;
  to: number;
  /** Share of the samples in the bin, 0..1. */
  share: number;
}

/** A histogram over logarithmic bins (10 per decade), for latencies spread over orders of magnitude. */
export function logHistogram(samples: readonly number[], perDecade = 10): Bin[] {
  const positive = samples.filter((v) => v > 0);
  if (positive.length === 0) return [];
  const index = (v: number) => Math.floor(Math.log10(v) * perDecade);
  const counts = new Map<number, number>();
  for (const v of positive) counts.set(index(v), (counts.get(index(v)) ?? 0) + 1);
  const [lo, hi] = [Math.min(...counts.keys()), Math.max(...counts.keys())];
  return Array.from({ length: hi - lo + 1 }, (_, i) => ({
    from: 10 ** ((lo + i) / perDecade),
    to: 10 ** ((lo + i + 1) / perDecade),
    share: (counts.get(lo + i) ?? 0) / positive.length,
  }));
}

export const PERCENTILES = [
  ['P50', 'p50'],
  ['P95', 'p95'],
  ['P99', 'p99'],
  ['P99.9', 'p999'],
] as const satisfies readonly (readonly [string, keyof LatencySummary])[];

/**
 * When the acknowledged curve stands still at the end: from the last batch sent without wait to the last
 * ?wait=true answer. Those batches are acknowledged only once their turns are searchable.
 */
export function finalWaits(r: StressResult): { from: number; to: number } | undefined {
  const lastWait = Math.max(0, ...r.requests.filter((q) => q.wait).map((q) => q.t));
  return lastWait > r.acceptSeconds ? { from: r.acceptSeconds, to: lastWait } : undefined;
}
