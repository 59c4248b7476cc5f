import { recallAtK } from '../../apps/cli/src/bench/run-bench';
import { syntheticTexts } from '../../apps/cli/src/bench/synthetic-corpus';
import { benchMarkdown, type BenchReport, formatBench } from '../../apps/cli/src/report/format-bench';

const figures = (backend: 'linear' | 'exact' | 'hnsw', p50: number, p99: number) => ({
  backend,
  queries: 100,
  p50,
  p99,
  buildSeconds: backend === 'linear' ? null : 0.5,
  recall: backend === 'hnsw' ? 0.987 : null,
});

const report: BenchReport = {
  machine: { nproc: 2, cpu: 'Test CPU', memoryGiB: 4, node: 'v20.0.0', platform: 'linux-x64', loadAverage: 1.5 },
  date: '2026-01-01',
  k: 10,
  index: { dim: 384, m: 16, efConstruction: 200, efRuntime: 64, exactThreshold: 4096 },
  sizes: [
    {
      observations: 10_000,
      backends: [
        figures('linear', 100, 300),
        figures('exact', 10, 20),
        figures('hnsw', 0.5, 3),
        { backend: 'redisearch', queries: null, p50: null, p99: null, buildSeconds: null, recall: null, skipped: 'REDIS_STACK_URL not set' },
      ],
      speedup: { p50: 200, p99: 100 },
    },
  ],
};

describe('bench report', () => {
  it('prints P50 / P99 per backend, skipped ones as such, and the speed-up', () => {
    const text = formatBench(report);
    expect(text).toContain('│       10,000 │');
    expect(text).toContain('100.0 ms / 300.0 ms');
    expect(text).toContain('0.50 ms / 3.00 ms');
    expect(text).toContain('skipped');
    expect(text).toMatch(/200× \/ 100× │ +0\.987 │/);
    expect(text).toContain('2 cores (Test CPU)');
  });

  it('writes a markdown table with the method, the machine and why a backend was skipped', () => {
    const md = benchMarkdown(report);
    expect(md).toContain('| observations | linear scan P50 / P99 | exact P50 / P99 | hnsw P50 / P99 | redisearch P50 / P99 | hnsw speed-up | hnsw recall@10 |');
    expect(md).toContain('| 10,000 | 100.0 ms / 300.0 ms | 10.0 ms / 20.0 ms | 0.50 ms / 3.00 ms | skipped | 200× / 100× | 0.987 |');
    expect(md).toContain('redisearch: skipped (REDIS_STACK_URL not set).');
    expect(md).toContain('HNSW_EXACT_THRESHOLD=4096');
    expect(md).toContain('Recall@10 against the exact scan, same queries (10,000: hnsw 0.987)');
  });

  it('computes recall@k over the queries both backends ran', () => {
    expect(recallAtK([['a', 'b'], ['c', 'd'], ['e', 'f']], [['a', 'x'], ['d', 'c']])).toBe(0.75);
  });
});

describe('synthetic corpus', () => {
  const one = () => 1;
  it('is deterministic per seed and varied', () => {
    expect(syntheticTexts(5, 1, one)).toEqual(syntheticTexts(5, 1, one));
    expect(syntheticTexts(5, 1, one)).not.toEqual(syntheticTexts(5, 2, one));
    const texts = syntheticTexts(200, 3, (i) => i);
    expect(new Set(texts).size).toBe(200);
    for (const t of texts) expect(t.split(' ').length).toBeGreaterThanOrEqual(10);
  });

  it('makes texts on one topic share more words than texts on different topics', () => {
    const shared = (a: string, b: string) => a.split(' ').filter((w) => b.split(' ').includes(w)).length;
    const same = syntheticTexts(100, 4, () => 7);
    const mixed = syntheticTexts(100, 4, (i) => i);
    const mean = (texts: string[]) => texts.slice(1).reduce((sum, t, i) => sum + shared(t, texts[i]), 0) / (texts.length - 1);
    expect(mean(same)).toBeGreaterThan(2 * mean(mixed));
  });
});
