import { OPERATIONS, type Operation } from '@app/memory/metrics/metric-names';
import { percentiles } from '@app/memory/metrics/quantiles';
import type { Timings } from '../http/api-types';

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const EMPTY: LatencySummary = { count: 0, mean: NaN, p50: NaN, p95: NaN, p99: NaN, p999: NaN, max: NaN };

/** Exact nearest-rank percentiles (the metrics library's), mean and max; NaN figures for no samples. */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return EMPTY;
  return { ...percentiles(samples), max: samples.reduce((a, b) => Math.max(a, b), -Infinity) };
}

export const COMPONENTS = ['write', 'read', 'assemble', 'llm'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface AttributionRow {
  component: Component;
  /** Mean ms per cycle. */
  mean: number;
  p99: number;
  /** The component's summed time over the summed end-to-end time. */
  share: number;
}

export interface LatencyReport {
  cycles: number;
  operations: Record<Operation, LatencySummary>;
  attribution: AttributionRow[];
  /** Sum of the shares: above 1 when components overlap, below 1 when time goes elsewhere (HTTP, queue hops). */
  attributed: number;
}

/**
 * Percentiles per operation, and where the end-to-end time went. The prototype divided P99s by a P99
 * (its shares added up to 104% with no word why). Here a share is a component's summed time over the summed
 * end-to-end time, and the report says how far the shares are from 100%: the API stores the user turn while
 * it retrieves, so write overlaps read and assemble; what no component covers is HTTP handling and queue hops.
 */
export function buildLatencyReport(cycles: readonly Timings[]): LatencyReport {
  const operations = Object.fromEntries(OPERATIONS.map((op) => [op, summarize(cycles.map((t) => t[op]))])) as Record<Operation, LatencySummary>;
  const attribution = COMPONENTS.map((component) => ({
    component,
    mean: operations[component].mean,
    p99: operations[component].p99,
    share: operations[component].mean / operations.e2e.mean,
  }));
  return { cycles: cycles.length, operations, attribution, attributed: attribution.reduce((a, r) => a + r.share, 0) };
}
