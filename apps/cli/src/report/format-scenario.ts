import { OPERATIONS } from '@app/memory/metrics/metric-names';
import type { ScenarioRun } from '../scenarios/run-scenario';
import type { LatencyReport } from './latency-report';
import { bar, formatMs, formatPercent, textTable } from './text-table';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function formatRecall(run: ScenarioRun): string {
  const { hits, probes, recall } = run.recall;
  if (recall === null) return 'Recall: no probe in the turns run';
  const quoted = run.probes.filter((p) => p.answered).length;
  const head = `Recall: ${hits}/${probes} probes found their evidence turn among the memories (${formatPercent(recall)}); ${quoted} replies quote the answer`;
  const rows = run.probes.map((p) => [String(p.step), clip(p.question, 56), clip(p.answer, 24), p.rank === null ? 'MISSED' : `#${p.rank}`, p.answered ? 'yes' : 'no']);
  return `${head}\n${textTable(['step', 'probe', 'answer', 'rank', 'in reply'], rows, ['right', 'left', 'left', 'right', 'left'])}`;
}

export function formatLatency(report: LatencyReport): string {
  const rows = OPERATIONS.map((op) => {
    const s = report.operations[op];
    return [op, ...[s.p50, s.p95, s.p99, s.p999, s.max].map(formatMs)];
  });
  const right: 'right'[] = Array(5).fill('right');
  // Nearest rank: below 100 samples P99 is the slowest one, below 1,000 P99.9 is.
  const n = report.cycles;
  const small = n < 100 ? ` (with ${n} samples, P99 and P99.9 are the slowest cycle)` : n < 1000 ? ` (with ${n} samples, P99.9 is the slowest cycle)` : '';
  const ops = textTable(['operation', 'P50', 'P95', 'P99', 'P99.9', 'max'], rows, ['left', ...right]);
  const attrRows = report.attribution.map((a) => [a.component, formatMs(a.mean), formatMs(a.p99), formatPercent(a.share), bar(a.share)]);
  const attr = textTable(['component', 'mean', 'P99', 'share of e2e', ''], attrRows, ['left', 'right', 'right', 'right', 'left']);
  return [`Latency per chat cycle, ${report.cycles} cycles${small}`, ops, '', 'Where the end-to-end time goes', attr, attributionNote(report.attributed)].join('\n');
}

function attributionNote(attributed: number): string {
  const sum = formatPercent(attributed);
  return attributed >= 1
    ? `The four add up to ${sum} of e2e: the API stores the user turn while it retrieves, so write overlaps\nread and assemble (HTTP handling and queue hops hide inside that overlap).`
    : `The four add up to ${sum} of e2e; the other ${formatPercent(1 - attributed)} is HTTP handling and queue hops.`;
}

export function formatScenarioRun(run: ScenarioRun): string {
  return [
    `Scenario ${run.scenario} · session ${run.session} · ${run.turns} turns (${run.turns * 2} observations) · responder: ${run.responder}`,
    '',
    formatRecall(run),
    '',
    formatLatency(run.latency),
  ].join('\n');
}
