import fc from 'fast-check';
import { cumulativeBuckets, histogramQuantile, LATENCY_BUCKETS, METRIC_NAMES, Metrics, percentiles } from '@app/memory/metrics';
import { InvalidInputError } from '@app/memory/errors/invalid-input.error';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('percentiles (exact, nearest rank)', () => {
  it('takes the ceil(q * n)-th smallest sample', () => {
    expect(percentiles(range(1, 100).reverse())).toEqual({ p50: 50, p95: 95, p99: 99, p999: 100, count: 100, mean: 50.5 });
    expect(percentiles(range(1, 1000))).toMatchObject({ p50: 500, p95: 950, p99: 990, p999: 999 });
    expect(percentiles(range(1, 1001))).toMatchObject({ p50: 501, p999: 1000 });
    expect(percentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7, p999: 7, count: 1, mean: 7 });
    expect(percentiles([3, 1, 2, 4])).toMatchObject({ p50: 2, p95: 4 });
  });

  it('leaves its input alone and rejects empty or non-finite input', () => {
    const samples = [3, 1, 2];
    percentiles(samples);
    expect(samples).toEqual([3, 1, 2]);
    expect(() => percentiles([])).toThrow(InvalidInputError);
    expect(() => percentiles([1, NaN])).toThrow(/finite/);
  });

  it('returns a sample with at least q of the samples at or below it and fewer than q strictly below', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 60, noNaN: true }), { minLength: 1, maxLength: 300 }), (samples) => {
        const p = percentiles(samples);
        for (const [q, v] of [[0.5, p.p50], [0.95, p.p95], [0.99, p.p99], [0.999, p.p999]]) {
          expect(samples).toContain(v);
          const need = Math.ceil(Math.round(q * 10000) * samples.length / 10000);
          expect(samples.filter((s) => s <= v).length).toBeGreaterThanOrEqual(need);
          expect(samples.filter((s) => s < v).length).toBeLessThan(need);
        }
      }),
    );
  });
});

describe('histogramQuantile (PromQL histogram_quantile semantics)', () => {
  // 10 observations: 2 in (0, 0.1], 4 in (0.1, 0.5], 2 in (0.5, 1], 2 above 1.
  const buckets = [
    { le: 0.1, count: 2 },
    { le: 0.5, count: 6 },
    { le: 1, count: 8 },
    { le: Infinity, count: 10 },
  ];

  it('interpolates linearly inside the bucket that holds rank q * total', () => {
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1 + 0.4 * (3 / 4), 12); // rank 5: 3rd of 4 in (0.1, 0.5]
    expect(histogramQuantile(0.1, buckets)).toBeCloseTo(0.05, 12); // the lowest bucket starts at 0
    expect(histogramQuantile(0.8, buckets)).toBe(1); // rank 8 is exactly the top of (0.5, 1]
    expect(histogramQuantile(0, buckets)).toBe(0);
  });

  it('answers with the highest finite bound when the rank falls in +Inf (P99 and P99.9 here)', () => {
    expect(histogramQuantile(0.9, buckets)).toBe(1);
    expect(histogramQuantile(0.99, buckets)).toBe(1);
    expect(histogramQuantile(0.999, buckets)).toBe(1);
    expect(histogramQuantile(1, buckets)).toBe(1);
  });

  it('interpolates P99.9 inside a finite bucket', () => {
    // 2000 observations: rank 0.999 * 2000 = 1998 is the 8th of the 9 in (0.1, 0.25].
    const tail = [
      { le: 0.1, count: 1990 },
      { le: 0.25, count: 1999 },
      { le: 0.5, count: 2000 },
      { le: Infinity, count: 2000 },
    ];
    expect(histogramQuantile(0.999, tail)).toBeCloseTo(0.1 + 0.15 * (8 / 9), 12);
    expect(histogramQuantile(0.99, tail)).toBeCloseTo(0.1 * (1980 / 1990), 12);
  });

  it('follows PromQL on the special cases', () => {
    expect(histogramQuantile(-0.1, buckets)).toBe(-Infinity);
    expect(histogramQuantile(1.1, buckets)).toBe(Infinity);
    expect(histogramQuantile(NaN, buckets)).toBeNaN();
    expect(histogramQuantile(0.5, buckets.slice(0, 3))).toBeNaN(); // no +Inf bucket
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 3 }])).toBeNaN(); // fewer than two buckets
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNaN(); // no observations
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0, [{ le: 0.1, count: 0 }, { le: 1, count: 4 }, { le: Infinity, count: 4 }])).toBeNaN(); // 0/0
    expect(histogramQuantile(0.25, [{ le: -1, count: 2 }, { le: 0, count: 4 }, { le: Infinity, count: 8 }])).toBe(-1);
  });

  it('sorts, coalesces equal bounds and forces monotonic counts first', () => {
    expect(histogramQuantile(0.5, [...buckets].reverse())).toBeCloseTo(0.4, 12);
    expect(histogramQuantile(0.5, [{ le: 1, count: 2 }, { le: 1, count: 2 }, { le: Infinity, count: 4 }])).toBeCloseTo(0.5, 12);
    // counts 3, 2, 5 become 3, 3, 5: rank 2.5 lies in the first bucket
    expect(histogramQuantile(0.5, [{ le: 0.1, count: 3 }, { le: 0.5, count: 2 }, { le: Infinity, count: 5 }])).toBeCloseTo(0.1 * (2.5 / 3), 12);
  });
});

describe('the report (exact) and the dashboard (buckets) agree within one bucket', () => {
  const bucketOf = (v: number) => {
    const i = LATENCY_BUCKETS.findIndex((le) => v <= le);
    return i === -1 ? { lower: LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1], upper: Infinity } : { lower: i === 0 ? 0 : LATENCY_BUCKETS[i - 1], upper: LATENCY_BUCKETS[i] };
  };

  it('puts histogram_quantile in the bucket of the exact nearest-rank percentile', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 20, noNaN: true }), { minLength: 1, maxLength: 400 }), (samples) => {
        const exact = percentiles(samples);
        const hist = cumulativeBuckets(samples, LATENCY_BUCKETS);
        for (const [q, v] of [[0.5, exact.p50], [0.95, exact.p95], [0.99, exact.p99], [0.999, exact.p999]]) {
          const { lower, upper } = bucketOf(v);
          const estimate = histogramQuantile(q, hist);
          expect(estimate).toBeGreaterThanOrEqual(lower);
          expect(estimate).toBeLessThanOrEqual(upper);
        }
      }),
    );
  });

  it('gives the same figures from the /metrics exposition of the operation histogram', async () => {
    const metrics = new Metrics('api');
    const samples = range(1, 500).map((i) => (i % 97) / 1000 + (i % 7 === 0 ? 0.3 : 0)); // 0 to 0.396 s
    for (const s of samples) metrics.observeOperation('read', 'memories', s);
    const text = await metrics.metrics();
    const scraped = text
      .split('\n')
      .filter((l) => l.startsWith(`${METRIC_NAMES.operationDuration}_bucket{`) && l.includes('operation="read"'))
      .map((l) => {
        const le = /le="([^"]+)"/.exec(l)![1];
        return { le: le === '+Inf' ? Infinity : Number(le), count: Number(l.split(' ').pop()) };
      });
    expect(scraped).toEqual(cumulativeBuckets(samples, LATENCY_BUCKETS));
    const exact = percentiles(samples);
    expect(bucketOf(histogramQuantile(0.99, scraped))).toEqual(bucketOf(exact.p99));
    expect(bucketOf(histogramQuantile(0.5, scraped))).toEqual(bucketOf(exact.p50));
  });
});
