import type { StressResult } from '../stress/run-stress';
import { formatMs, textTable } from './text-table';

const rate = (v: number | null) => (v === null ? 'not reached' : `${Math.round(v).toLocaleString('en-US')} turns/s`);
const n = (v: number) => v.toLocaleString('en-US');

export const stressTitle = (r: StressResult): string => {
  const o = r.options;
  return `Stress ${r.runId}: ${o.sessions} sessions × ${o.turns} turns, batches of ${o.batch}, concurrency ${o.concurrency}${o.rate ? `, ≤ ${o.rate} turns/s` : ''}`;
};

/** The zero-loss audit's figures in one sentence. */
export const auditLine = (r: StressResult): string => {
  const a = r.audit;
  return `${n(a.stored)} stored of ${n(a.expected)} acknowledged, ${a.lost} lost, ${a.duplicated} duplicated, ${a.unacknowledged} stored unacknowledged`;
};

/** The summary, as [measure, value] rows: the terminal table and the HTML report show the same. */
export function stressRows(r: StressResult): [string, string][] {
  const f = r.failures;
  return [
    ['turns sent / acknowledged', `${n(r.sent)} / ${n(r.accepted)}`],
    ['accepted, batches without wait', `${rate(r.acceptedPerSecond)} over ${r.acceptSeconds.toFixed(2)} s`],
    ['accepted (best 1 s window)', rate(r.peakAcceptedPerSecond)],
    ['stored and searchable', r.storedSeconds === null ? `not all within ${r.options.drainTimeoutS} s of the last POST` : `${rate(r.storedPerSecond)} (all in ${r.storedSeconds.toFixed(2)} s)`],
    ...(r.options.retrieverMetrics.length ? [['in every retriever\'s index', r.indexedSeconds === null ? 'not all within the drain timeout' : `all in ${r.indexedSeconds.toFixed(2)} s`] as [string, string]] : []),
    ['POST latency (no wait) P50 / P99', `${formatMs(r.acceptLatency.p50)} / ${formatMs(r.acceptLatency.p99)}`],
    [`accept -> searchable (${r.e2eLatency.count} waits) P50 / P99`, `${formatMs(r.e2eLatency.p50)} / ${formatMs(r.e2eLatency.p99)}`],
    ['max embed queue depth (waiting)', n(Math.max(0, ...r.timeline.map((p) => p.embedWaiting ?? 0)))],
    ['retries / failed batches', `${r.retries} / ${r.failedBatches} (429: ${f.throttled}, 503: ${f.shed}, other errors: ${f.errors})`],
    ['exactly once', `${r.audit.ok ? 'YES' : 'NO'}: ${auditLine(r)}`],
  ];
}

export const formatStress = (r: StressResult): string => `${stressTitle(r)}\n${textTable(['measure', 'value'], stressRows(r))}`;
