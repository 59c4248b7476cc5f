export interface Series {
  name: string;
  colour: string;
  points: readonly [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const tick = (v: number) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k` : Number(v.toPrecision(3)).toString());

/** A self-contained SVG line chart (no script, no external resource), axes from zero. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 260;
  const m = { l: 56, r: 16, t: 28, b: 40 };
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...all.map((p) => p[1])) * 1.05;
  const x = (v: number) => m.l + (v / xMax) * (width - m.l - m.r);
  const y = (v: number) => height - m.b - (v / yMax) * (height - m.t - m.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((f) => `<line x1="${m.l}" x2="${width - m.r}" y1="${y(f * yMax)}" y2="${y(f * yMax)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(f * yMax) + 4}" text-anchor="end">${tick(f * yMax)}</text>`)
    .join('');
  const xTicks = ticks.map((f) => `<text x="${x(f * xMax)}" y="${height - m.b + 16}" text-anchor="middle">${tick(f * xMax)}</text>`).join('');
  const lines = series
    .map((s) => `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${width - m.r - 8}" y="${m.t + 14 + i * 16}" text-anchor="end" fill="${s.colour}">${esc(s.name)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(o.title)}</text>${grid}${xTicks}
<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${height - m.b}" stroke="#444"/><line x1="${m.l}" x2="${width - m.r}" y1="${height - m.b}" y2="${height - m.b}" stroke="#444"/>
<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle">${esc(o.xLabel)}</text>
<text transform="translate(12 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>${lines}${legend}</svg>`;
}
