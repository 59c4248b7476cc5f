import type { StressResult } from '../stress/run-stress';
import { formatMs, textTable } from './text-table';

const rate = (v: number | null) => (v === null ? 'not reached' : `${Math.round(v).toLocaleString('en-US')} turns/s`);

export function formatStress(r: StressResult): string {
  const o = r.options;
  const a = r.audit;
  const rows = [
    ['turns sent / acknowledged', `${r.sent.toLocaleString('en-US')} / ${r.accepted.toLocaleString('en-US')}`],
    ['accepted, batches without wait', `${rate(r.acceptedPerSecond)} over ${r.acceptSeconds.toFixed(2)} s`],
    ['accepted (best 1 s window)', rate(r.peakAcceptedPerSecond)],
    ['stored and searchable', r.storedSeconds === null ? `not all within ${o.drainTimeoutS} s of the last POST` : `${rate(r.storedPerSecond)} (all in ${r.storedSeconds.toFixed(2)} s)`],
    ['POST latency (no wait) P50 / P99', `${formatMs(r.acceptLatency.p50)} / ${formatMs(r.acceptLatency.p99)}`],
    [`accept -> searchable (${r.e2eLatency.count} waits) P50 / P99`, `${formatMs(r.e2eLatency.p50)} / ${formatMs(r.e2eLatency.p99)}`],
    ['max embed queue depth (waiting)', String(Math.max(0, ...r.timeline.map((p) => p.embedWaiting ?? 0)))],
    ['retries / failed batches', `${r.retries} / ${r.failedBatches}`],
    ['exactly once', `${a.ok ? 'YES' : 'NO'}: ${a.stored} stored of ${a.expected} acknowledged, ${a.lost} lost, ${a.duplicated} duplicated, ${a.unacknowledged} stored unacknowledged`],
  ];
  const head = `Stress ${r.runId}: ${o.sessions} sessions × ${o.turns} turns, batches of ${o.batch}, concurrency ${o.concurrency}${o.rate ? `, ≤ ${o.rate} turns/s` : ''}`;
  return `${head}\n${textTable(['measure', 'value'], rows)}`;
}
