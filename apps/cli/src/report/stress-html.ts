import type { StressResult } from '../stress/run-stress';
import { formatStress } from './format-stress';
import { lineChart } from './svg-chart';

/** Each sample at its percentile rank: the latency CDF turned on its side. */
const distribution = (samples: number[]): [number, number][] =>
  [...samples].sort((a, b) => a - b).map((v, i, all) => [((i + 1) / all.length) * 100, v]);

/** A self-contained HTML report: the summary table and inline SVG charts, no script and no external resource. */
export function stressHtml(r: StressResult, machine: string): string {
  const throughput = lineChart(
    [
      { name: 'acknowledged', colour: '#1f77b4', points: r.timeline.map((p) => [p.t, p.accepted]) },
      { name: 'stored', colour: '#2ca02c', points: r.timeline.map((p) => [p.t, p.stored]) },
    ],
    { title: 'Turns acknowledged and stored (cumulative)', xLabel: 'seconds', yLabel: 'turns' },
  );
  const queue = lineChart([{ name: 'embed waiting', colour: '#d62728', points: r.timeline.filter((p) => p.embedWaiting !== null).map((p) => [p.t, p.embedWaiting!]) }], {
    title: 'Embed queue depth (jobs waiting)',
    xLabel: 'seconds',
    yLabel: 'jobs',
  });
  const latency = lineChart(
    [
      { name: 'POST (no wait)', colour: '#1f77b4', points: distribution(r.samples.accept) },
      { name: 'POST ?wait=true (accept -> searchable)', colour: '#ff7f0e', points: distribution(r.samples.e2e) },
    ],
    { title: 'Latency distribution', xLabel: 'percentile', yLabel: 'ms' },
  );
  const text = formatStress(r).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agent-memory stress ${r.runId}</title>
<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}pre{font-size:12px;background:#f6f6f6;padding:1em;overflow:auto}svg{display:block;margin:1.5em 0}</style>
</head><body>
<h1>agent-memory stress run ${r.runId}</h1>
<p>${machine.replace(/</g, '&lt;')}</p>
<pre>${text}</pre>
${throughput}
${queue}
${latency}
</body></html>
`;
}
