import { binSeconds, finalWaits, latencyPerBin, logHistogram, logTicks, ratePerSecond } from '../../apps/cli/src/report/stress-series';
import { auditSession, auditTotals, stressContent } from '../../apps/cli/src/stress/audit';
import { promSample } from '../../apps/cli/src/stress/prom-text';
import { assertLoopback, peakRate, planBatches } from '../../apps/cli/src/stress/run-stress';

const turn = (turnId: string, cid: string) => ({ turnId, content: stressContent(cid, 'text') });

describe('stress audit', () => {
  it('passes a history holding each acknowledged turn once', () => {
    const a = auditSession('s', ['a', 'b'], [turn('1', 'a'), turn('2', 'b')]);
    expect(a).toEqual({ session: 's', expected: 2, stored: 2, lost: 0, duplicated: 0, unacknowledged: 0 });
    expect(auditTotals([a]).ok).toBe(true);
  });

  it('counts lost, duplicated (by client id and by turn id) and unacknowledged turns', () => {
    const a = auditSession('s', ['a', 'b', 'c', 'd'], [turn('1', 'a'), turn('2', 'a'), turn('3', 'b'), turn('3', 'z'), turn('4', 'y')]);
    expect(a).toEqual({ session: 's', expected: 4, stored: 5, lost: 2, duplicated: 2, unacknowledged: 1 });
    const totals = auditTotals([a, auditSession('t', ['x'], [turn('9', 'x')])]);
    expect(totals).toEqual({ sessions: 2, expected: 5, stored: 6, lost: 2, duplicated: 2, unacknowledged: 1, ok: false });
  });

  it('plans every turn once, with unique client ids, and the last batch of each session waiting', () => {
    const { sessions, batches } = planBatches('run1', { sessions: 3, turns: 250, batch: 100, waitEvery: 1000 });
    expect(sessions).toHaveLength(3);
    const ids = batches.flatMap((b) => b.turns.map((t) => t.id));
    expect(ids).toHaveLength(750);
    expect(new Set(ids).size).toBe(750);
    for (const s of sessions) {
      const own = batches.filter((b) => b.session === s);
      expect(own.map((b) => b.turns.length)).toEqual([100, 100, 50]);
      expect(own.map((b) => b.wait)).toEqual([false, false, true]);
    }
    expect(batches.slice(0, 3).map((b) => b.session)).toEqual(sessions); // interleaved
  });

  it('finds the best rate over windows of at least a second', () => {
    const timeline = [0, 0.5, 1, 1.5, 2, 3].map((t, i) => ({ t, accepted: [0, 100, 200, 5200, 5300, 5400][i] }));
    expect(peakRate(timeline)).toBe(5100); // 0.5 s -> 1.5 s
    expect(peakRate(timeline.slice(0, 2))).toBe(0);
  });

  it('refuses any target but loopback', () => {
    expect(() => assertLoopback('http://127.0.0.1:3000')).not.toThrow();
    expect(() => assertLoopback('http://localhost:3000')).not.toThrow();
    expect(() => assertLoopback('http://10.0.0.5:3000')).toThrow(/loopback/);
  });
});

describe('prometheus text', () => {
  const text = [
    '# HELP agent_memory_queue_jobs Jobs per queue and state',
    '# TYPE agent_memory_queue_jobs gauge',
    'agent_memory_queue_jobs{state="active",queue="embed"} 7',
    'agent_memory_queue_jobs{state="waiting",queue="embed"} 1234',
    'agent_memory_queue_jobs_total 99',
  ].join('\n');

  it('reads a sample by name and labels, in any label order', () => {
    expect(promSample(text, 'agent_memory_queue_jobs', { queue: 'embed', state: 'waiting' })).toBe(1234);
    expect(promSample(text, 'agent_memory_queue_jobs_total')).toBe(99);
    expect(promSample(text, 'agent_memory_queue_jobs', { queue: 'retrieve' })).toBeUndefined();
  });
});

describe('stress report series', () => {
  const point = (t: number, accepted: number, indexed: number | null = null) => ({ t, accepted, stored: accepted, indexed, embedWaiting: 0, throttled: 0, shed: 0, errors: 0 });

  it('turns cumulative samples into rates per second, per bin', () => {
    const timeline = [point(0, 0), point(0.5, 100), point(1, 300), point(2, 300), point(3, 1300)];
    expect(ratePerSecond(timeline, 'accepted', 1)).toEqual([
      { t: 0.5, value: 300 },
      { t: 1.5, value: 0 }, // the plateau: nothing acknowledged between 1 s and 2 s
      { t: 2.5, value: 1000 },
    ]);
    expect(ratePerSecond(timeline, 'accepted', 2)).toEqual([
      { t: 1, value: 150 },
      { t: 2.5, value: 1000 },
    ]);
  });

  it('leaves out bins with no sample of a series (the index was not read)', () => {
    expect(ratePerSecond([point(0, 0), point(1, 10)], 'indexed', 1)).toEqual([]);
  });

  it('takes P50 and P99 of the requests answered in each bin', () => {
    const requests = [0.1, 0.2, 0.3, 1.5].map((t, i) => ({ t, ms: [10, 30, 20, 99][i], wait: false }));
    expect(latencyPerBin(requests, 1)).toEqual([
      { t: 0.5, p50: 20, p99: 30, count: 3 },
      { t: 1.5, p50: 99, p99: 99, count: 1 },
    ]);
  });

  it('puts log-axis ticks on round 1-2-5 values around the data', () => {
    expect(logTicks(7, 3300)).toEqual([5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
    expect(logTicks(0.4, 0.9)).toEqual([0.2, 0.5, 1, 2]);
  });

  it('bins latencies logarithmically, shares adding up to 1', () => {
    const bins = logHistogram([1, 1.1, 10, 100, 1000]);
    expect(bins[0].from).toBeCloseTo(1);
    expect(bins.at(-1)!.to).toBeCloseTo(10 ** 3.1);
    expect(bins.reduce((a, b) => a + b.share, 0)).toBeCloseTo(1);
    expect(bins.find((b) => b.from <= 10 && b.to > 10)!.share).toBeCloseTo(0.2);
  });

  it('keeps about 60 time bins on round steps', () => {
    expect([4, 30, 60, 61, 300, 600].map(binSeconds)).toEqual([0.5, 0.5, 1, 2, 5, 10]);
  });

  it('finds the final waits: from the last batch without wait to the last ?wait=true answer', () => {
    const requests = [
      { t: 1, ms: 5, wait: false },
      { t: 2, ms: 5, wait: true },
      { t: 3, ms: 5, wait: false },
      { t: 7, ms: 4000, wait: true },
    ];
    expect(finalWaits({ acceptSeconds: 3, requests } as never)).toEqual({ from: 3, to: 7 });
    expect(finalWaits({ acceptSeconds: 3, requests: requests.slice(0, 3) } as never)).toBeUndefined();
  });
});
