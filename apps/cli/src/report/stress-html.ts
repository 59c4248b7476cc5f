import type { StressResult } from '../stress/run-stress';
import { auditLine, stressRows, stressTitle } from './format-stress';
import { renderSvg, type TopLevelSpec } from './render-svg';
import { binSeconds, finalWaits, latencyPerBin, logHistogram, logTicks, PERCENTILES, ratePerSecond } from './stress-series';

const WIDTH = 640;
const HEIGHT = 190;
const COLOURS: Record<string, string> = {
  acknowledged: '#1f77b4',
  stored: '#2ca02c',
  indexed: '#9467bd',
  'P50 (no wait)': '#1f77b4',
  'P99 (no wait)': '#d62728',
  '?wait=true batch': '#ff7f0e',
  '429 rate limited': '#ff7f0e',
  '503 shed': '#d62728',
  'other errors': '#7f7f7f',
};

/** Counts: 12,000, never 12k; fractions only where the ticks need them. */
const COUNT_FORMAT = ',~f';
/** Milliseconds as milliseconds: 7,000 ms, not 7.0k. */
const MS_LABEL = "format(datum.value, ',~f') + ' ms'";

/** Milliseconds in the charts' unit: 7,000 ms, 12.5 ms, 0.42 ms. */
const ms = (v: number) => `${v.toLocaleString('en-US', { maximumFractionDigits: v < 10 ? 2 : v < 100 ? 1 : 0 })} ms`;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** The time charts' frame: they all span the whole run (so that they line up), in bins of `bin` seconds. */
interface Frame {
  end: number;
  bin: number;
}
const time = (f: Frame) => ({ field: 't', type: 'quantitative' as const, title: 'seconds since the first POST', scale: { domain: [0, f.end], nice: false }, axis: { format: COUNT_FORMAT } });
const colour = (names: readonly string[]) => ({
  field: 'series',
  type: 'nominal' as const,
  title: null,
  sort: names,
  scale: { domain: names, range: names.map((n) => COLOURS[n]) },
  legend: { orient: 'top' as const, direction: 'horizontal' as const, labelLimit: 0 },
});

/** What every chart shares; `subtitle` stays short (long text goes in the page, where it wraps). */
const base = (title: string, subtitle: string, height = HEIGHT) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, subtitle, anchor: 'start' as const, fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555' },
  width: WIDTH,
  height,
  config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' as const, gridColor: '#eee' }, legend: { labelFontSize: 11 }, view: { stroke: '#ccc' } },
});

/** A shaded band over the final waits, for the charts whose x is time. */
function waitBand(r: StressResult): object[] {
  const band = finalWaits(r);
  if (!band) return [];
  const values = [band];
  return [
    { data: { values }, mark: { type: 'rect', color: '#fbe3e3' }, encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } } },
    {
      data: { values },
      mark: { type: 'text', align: 'right', baseline: 'top', dx: -3, dy: 3, fontSize: 10, color: '#b44' },
      encoding: { x: { field: 'from', type: 'quantitative' }, y: { value: 0 }, text: { value: 'final waits →' } },
    },
  ];
}

const lines = (f: Frame, values: object[], names: readonly string[], y: object, points: boolean) => ({
  data: { values },
  mark: { type: 'line', strokeWidth: 2, point: points ? { size: 18 } : false },
  encoding: { x: time(f), y, color: colour(names) },
});

function turnCharts(r: StressResult, f: Frame): TopLevelSpec[] {
  const { bin } = f;
  const keys = { acknowledged: 'accepted', stored: 'stored', indexed: 'indexed' } as const;
  const names = (Object.keys(keys) as (keyof typeof keys)[]).filter((n) => n !== 'indexed' || r.timeline.some((p) => p.indexed !== null));
  const points = f.end / bin < 30;
  const rates = names.flatMap((series) => ratePerSecond(r.timeline, keys[series], bin).map((p) => ({ ...p, series })));
  const totals = names.flatMap((series) => r.timeline.filter((p) => p[keys[series]] !== null).map((p) => ({ t: p.t, value: p[keys[series]], series })));
  return [
    {
      ...base('Turns per second', `mean over each ${bin} s of the run`),
      layer: [...waitBand(r), lines(f, rates, names, { field: 'value', type: 'quantitative', title: 'turns/s', axis: { format: COUNT_FORMAT } }, points)],
    },
    {
      ...base('Turns so far', `cumulative, sampled every ${r.options.sampleEveryMs} ms`),
      layer: [...waitBand(r), lines(f, totals, names, { field: 'value', type: 'quantitative', title: 'turns', axis: { format: COUNT_FORMAT } }, false)],
    },
  ] as TopLevelSpec[];
}

/** A log axis on 1-2-5 ticks covering `values`, labelled in ms. */
function msScale(values: number[]) {
  const ticks = logTicks(Math.min(...values), Math.max(...values));
  return { scale: { type: 'log', domain: [ticks[0], ticks.at(-1)] }, axis: { values: ticks, labelExpr: MS_LABEL, title: 'latency', grid: true } };
}

function latencyOverTime(r: StressResult, f: Frame): TopLevelSpec {
  const { bin } = f;
  const plain = latencyPerBin(
    r.requests.filter((q) => !q.wait),
    bin,
  ).flatMap((s) => [
    { t: s.t, ms: s.p50, series: 'P50 (no wait)' },
    { t: s.t, ms: s.p99, series: 'P99 (no wait)' },
  ]);
  const waits = r.requests.filter((q) => q.wait).map((q) => ({ t: q.t, ms: q.ms, series: '?wait=true batch' }));
  const names = ['P50 (no wait)', 'P99 (no wait)', '?wait=true batch'];
  const y = { field: 'ms', type: 'quantitative', ...msScale([...plain, ...waits].map((p) => p.ms)) };
  return {
    ...base('POST latency over time', `P50 and P99 of the batches sent without wait, per ${bin} s; each ?wait=true batch as a dot`),
    layer: [
      ...waitBand(r),
      lines(f, plain, names, y, true),
      { data: { values: waits }, mark: { type: 'point', filled: true, size: 28, opacity: 0.8 }, encoding: { x: time(f), y, color: colour(names) } },
    ],
  } as TopLevelSpec;
}

function distribution(r: StressResult, wait: boolean): TopLevelSpec {
  const samples = r.requests.filter((q) => q.wait === wait).map((q) => q.ms);
  const summary = wait ? r.e2eLatency : r.acceptLatency;
  const bins = logHistogram(samples).map((b) => ({ ...b, share: b.share * 100 }));
  // One label per percentile, each on its own line, so that close percentiles never print over each other.
  const marks = PERCENTILES.map(([label, key], i) => ({ label: `${label} ${ms(summary[key])}`, ms: summary[key], row: i }));
  const x = { type: 'quantitative', ...msScale(bins.flatMap((b) => [b.from, b.to])) };
  const title = wait ? 'Latency distribution: POST ?wait=true (accepted -> searchable)' : 'Latency distribution: POST without wait (accepted)';
  return {
    ...base(title, `${samples.length.toLocaleString('en-US')} requests, 10 bins per decade; dashed: the percentiles`, 160),
    layer: [
      {
        data: { values: bins },
        mark: { type: 'rect', color: wait ? '#ffbb78' : '#aec7e8', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'from', ...x },
          x2: { field: 'to' },
          y: { field: 'share', type: 'quantitative', title: '% of requests', axis: { format: COUNT_FORMAT } },
          y2: { datum: 0 },
        },
      },
      { data: { values: marks }, mark: { type: 'rule', color: '#333', strokeDash: [4, 3] }, encoding: { x: { field: 'ms', ...x } } },
      {
        data: { values: marks },
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 10, color: '#222' },
        encoding: { x: { field: 'ms', ...x }, y: { field: 'row', type: 'ordinal', axis: null, scale: { paddingOuter: 0.6 } }, text: { field: 'label' } },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

function failureChart(r: StressResult, f: Frame): TopLevelSpec {
  const { bin } = f;
  const names = { throttled: '429 rate limited', shed: '503 shed', errors: 'other errors' } as const;
  const keys = Object.keys(names) as (keyof typeof names)[];
  const values = keys.flatMap((key) => ratePerSecond(r.timeline, key, bin).map((p) => ({ ...p, series: names[key] })));
  const total = r.failures.throttled + r.failures.shed + r.failures.errors;
  const subtitle = total === 0 ? 'none in this run: every POST was acknowledged at its first attempt' : `${total} failed attempts (${r.retries} resent, ${r.failedBatches} batches given up), per ${bin} s`;
  return {
    ...base('Failed POSTs per second, by cause', subtitle, 130),
    layer: [
      ...waitBand(r),
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: time(f),
          y: { field: 'value', type: 'quantitative', title: 'attempts/s', axis: { format: COUNT_FORMAT, tickMinStep: 1 }, scale: { domainMin: 0, ...(total === 0 ? { domainMax: 1 } : {}) } },
          color: colour(Object.values(names)),
        },
      },
    ],
  } as TopLevelSpec;
}

function queueDepth(r: StressResult, f: Frame): TopLevelSpec {
  const values = r.timeline.filter((p) => p.embedWaiting !== null).map((p) => ({ t: p.t, jobs: p.embedWaiting }));
  return {
    ...base('Embed queue depth', 'jobs waiting for an embedder, from the API\'s /metrics', 130),
    layer: [
      ...waitBand(r),
      {
        data: { values },
        mark: { type: 'area', line: { color: '#d62728' }, color: '#f4b6b6', opacity: 0.7, interpolate: 'step-after' },
        encoding: { x: time(f), y: { field: 'jobs', type: 'quantitative', title: 'jobs waiting', axis: { format: COUNT_FORMAT, tickMinStep: 1 } } },
      },
    ],
  } as TopLevelSpec;
}

const table = (headers: string[], rows: (string | number)[][], numeric: boolean[] = []) => {
  const cls = (i: number) => (numeric[i] ? ' class="n"' : '');
  const cell = (c: string | number) => esc(typeof c === 'number' ? c.toLocaleString('en-US') : c);
  return `<table><thead><tr>${headers.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${cell(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
};

function auditSection(r: StressResult): string {
  const a = r.audit;
  const headers = ['session', 'acknowledged', 'stored', 'lost', 'duplicated', 'stored unacknowledged'];
  const rows = r.sessionAudits.map((s) => [s.session, s.expected, s.stored, s.lost, s.duplicated, s.unacknowledged]);
  return `<h2 id="audit">Zero-loss audit</h2>
<p class="${a.ok ? 'ok' : 'bad'}">${a.ok ? 'Every acknowledged turn stored exactly once' : 'NOT exactly once'}: ${esc(auditLine(r))}.</p>
<p class="note">After the run, every session's whole history was read back and matched, by client id and by turn id,
against the turns the API had acknowledged: an acknowledged turn missing is lost, one stored twice is duplicated.</p>
${table(headers, [[`all ${a.sessions} sessions`, a.expected, a.stored, a.lost, a.duplicated, a.unacknowledged], ...rows], [false, true, true, true, true, true])}`;
}

function notes(r: StressResult): { throughput: string; latency: string } {
  const band = finalWaits(r);
  const indexed = r.timeline.some((p) => p.indexed !== null)
    ? "<b>indexed</b>: vectors added to the slowest retriever's index. A stored turn is searchable before that: a search waits until the index covers every write before it (read-your-writes)."
    : '<b>indexed</b> is not shown: no retriever /metrics were given (<code>--retriever-metrics</code>).';
  const plateau = band
    ? ` <b>The shaded end</b> (${band.from.toFixed(1)} s to ${band.to.toFixed(1)} s): every batch sent without wait has been answered, and only the last batch of each session is left, sent with <code>?wait=true</code>. Those are acknowledged only once their turns are stored, so the acknowledged curve stands still (its rate drops to zero) while the embedders work through the queue, then steps up as the waits answer.`
    : '';
  return {
    throughput: `<p class="note"><b>acknowledged</b>: turns the API answered for (202, or 200 for <code>?wait=true</code>); <b>stored</b>: turns in the sessions' histories; ${indexed}${plateau}</p>`,
    latency: `<p class="note">Every ${r.options.waitEvery}th batch, and each session's last, is sent with <code>?wait=true</code>: its latency runs from the POST until its turns are stored and searchable (any search from then on finds them). Latency axes are logarithmic.</p>`,
  };
}

/** A self-contained HTML report: the summary, Vega-Lite charts rendered to inline SVG, and the audit; no script, nothing fetched. */
export async function stressHtml(r: StressResult, machine: string): Promise<string> {
  const end = Math.ceil(r.timeline.at(-1)?.t ?? 0);
  const frame: Frame = { end, bin: binSeconds(end) };
  const [rates, totals] = turnCharts(r, frame);
  const specs = [rates, totals, latencyOverTime(r, frame), distribution(r, false), distribution(r, true), failureChart(r, frame), queueDepth(r, frame)];
  const [ratesSvg, totalsSvg, latencySvg, plainSvg, waitSvg, failuresSvg, queueSvg] = await Promise.all(specs.map(renderSvg));
  const note = notes(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agent-memory stress ${esc(r.runId)}</title>
<style>
body{font-family:sans-serif;max-width:${WIDTH + 100}px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#c00;font-weight:bold}.note{font-size:13px;color:#444}
svg{display:block;margin:1.4em 0 .4em;max-width:100%;height:auto}
</style>
</head><body>
<h1>agent-memory stress run ${esc(r.runId)}</h1>
<p>${esc(stressTitle(r))}.<br>${esc(machine)}.</p>
${table(['measure', 'value'], stressRows(r))}
<h2>Throughput</h2>
${ratesSvg}
${totalsSvg}
${note.throughput}
<h2>Latency</h2>
${latencySvg}
${plainSvg}
${waitSvg}
${note.latency}
<h2>Failures and back-pressure</h2>
${failuresSvg}
${queueSvg}
${auditSection(r)}
</body></html>
`;
}
