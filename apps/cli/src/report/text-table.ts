export type Align = 'left' | 'right';

const width = (s: string): number => [...s].length;
const pad = (s: string, w: number, align: Align): string =>
  align === 'left' ? s + ' '.repeat(w - width(s)) : ' '.repeat(w - width(s)) + s;

/** A box-drawn table for the terminal; `align` per column, left by default. */
export function textTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const row = (cells: string[]) => '│' + cells.map((c, i) => ` ${pad(c ?? '', widths[i], align[i] ?? 'left')} `).join('│') + '│';
  return [line('┌', '┬', '┐'), row(headers), line('├', '┼', '┤'), ...rows.map(row), line('└', '┴', '┘')].join('\n');
}

/** Milliseconds, readable across six orders of magnitude. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export const formatPercent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** A horizontal bar of `share` (0..1) over `cells` characters, in eighths. */
export function bar(share: number, cells = 20): string {
  const eighths = Math.round(Math.min(1, Math.max(0, share)) * cells * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 ? '▏▎▍▌▋▊▉'[(eighths % 8) - 1] : '');
}
