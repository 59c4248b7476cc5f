import { lineChart } from '../../apps/cli/src/report/svg-chart';
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

describe('svg chart', () => {
  it('is self-contained and escapes text', () => {
    const svg = lineChart([{ name: 'a<b', colour: '#000', points: [[0, 0], [1, 10]] }], { title: 'T & U', xLabel: 's', yLabel: 'n' });
    expect(svg).toContain('<polyline');
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('T &amp; U');
    expect(svg).not.toMatch(/href|<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
