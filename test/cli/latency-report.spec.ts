import { buildLatencyReport, summarize } from '../../apps/cli/src/report/latency-report';
import { formatLatency } from '../../apps/cli/src/report/format-scenario';
import { bar, formatMs, textTable } from '../../apps/cli/src/report/text-table';

const cycle = (write: number, read: number, assemble: number, llm: number, e2e: number) => ({ write, read, assemble, llm, e2e });

describe('latency report', () => {
  it('summarizes with exact nearest-rank percentiles, mean and max', () => {
    const s = summarize(Array.from({ length: 200 }, (_, i) => 200 - i)); // 1..200, unsorted
    expect(s).toEqual({ count: 200, mean: 100.5, p50: 100, p95: 190, p99: 198, p999: 200, max: 200 });
  });

  it('gives NaN figures, not a crash, for no samples', () => {
    expect(summarize([])).toMatchObject({ count: 0, p50: NaN, max: NaN });
  });

  it('attributes summed component time over summed e2e time, and says what is left', () => {
    const r = buildLatencyReport([cycle(2, 3, 1, 4, 20), cycle(2, 3, 1, 4, 20)]);
    expect(r.attribution.map((a) => [a.component, a.share])).toEqual([
      ['write', 0.1],
      ['read', 0.15],
      ['assemble', 0.05],
      ['llm', 0.2],
    ]);
    expect(r.attributed).toBeCloseTo(0.5);
    expect(formatLatency(r)).toContain('the other 50.0% is HTTP handling and queue hops');
  });

  it('reports overlap when the components add up to more than e2e', () => {
    const r = buildLatencyReport([cycle(8, 6, 1, 1, 10)]);
    expect(r.attributed).toBeCloseTo(1.6);
    expect(formatLatency(r)).toMatch(/The four add up to 160\.0% of e2e: the API stores the user turn while it retrieves/);
  });

  it('prints all five operations with P50, P95, P99 and P99.9', () => {
    const text = formatLatency(buildLatencyReport(Array.from({ length: 50 }, (_, i) => cycle(1, 2, 0.5, 100 + i, 104 + i))));
    for (const op of ['write', 'read', 'assemble', 'llm', 'e2e']) expect(text).toMatch(new RegExp(`│ ${op}\\s+│`));
    expect(text).toMatch(/│ operation │\s+P50 │\s+P95 │\s+P99 │\s+P99\.9 │/);
    expect(text).toContain('with 50 samples, P99 and P99.9 are the slowest cycle');
  });
});

describe('text formatting', () => {
  it('aligns table columns to the widest cell', () => {
    const lines = textTable(['a', 'bbb'], [['xx', '1'], ['y', '22']], ['left', 'right']).split('\n');
    expect(lines).toEqual(['┌────┬─────┐', '│ a  │ bbb │', '├────┼─────┤', '│ xx │   1 │', '│ y  │  22 │', '└────┴─────┘']);
  });

  it('formats milliseconds across magnitudes', () => {
    expect([0.1234, 12.345, 4321].map(formatMs)).toEqual(['0.12 ms', '12.3 ms', '4.32 s']);
    expect(formatMs(NaN)).toBe('-');
  });

  it('draws bars in eighths', () => {
    expect(bar(0.5, 4)).toBe('██');
    expect(bar(0.5, 1)).toBe('▌'); // half of one cell: 4 eighths
    expect(bar(2, 2)).toBe('██');
  });
});
