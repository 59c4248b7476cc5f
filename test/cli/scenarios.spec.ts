import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { SCENARIOS } from '../../apps/cli/src/scenarios';
import { customerSupport } from '../../apps/cli/src/scenarios/customer-support';
import { researchAssistant } from '../../apps/cli/src/scenarios/research-assistant';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe.each(Object.values(SCENARIOS))('scenario $name', (scenario) => {
  const probes = scenario.steps.flatMap((step, i) => (step.probe ? [{ step, i, probe: step.probe }] : []));

  it('states each fact once', () => {
    const labels = scenario.steps.flatMap((s) => (s.fact ? [s.fact] : []));
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('asks every probe after the step that states its answer, and that step holds the answer', () => {
    expect(probes.length).toBeGreaterThanOrEqual(8);
    for (const { i, probe } of probes) {
      const at = scenario.steps.findIndex((s) => s.fact === probe.evidence);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(i);
      expect(scenario.steps[at].say).toContain(probe.answer);
    }
  });

  // The fairness check for the offline lexical embedder: among the user turns said before a probe,
  // its evidence is in the top 3 (the service retrieves 10, and assistant replies compete too).
  it('puts each evidence turn in the lexical top 3 of the turns before its probe', () => {
    const embedder = new LocalEmbedder(384);
    const vectors = scenario.steps.map((s) => embedder.embedOne(s.say));
    const misses: string[] = [];
    for (const { i, probe } of probes) {
      const at = scenario.steps.findIndex((s) => s.fact === probe.evidence);
      const ranked = vectors
        .slice(0, i)
        .map((v, j) => ({ j, sim: dot(v, vectors[i]) }))
        .sort((a, b) => b.sim - a.sim)
        .map((r) => r.j);
      if (ranked.indexOf(at) >= 3) misses.push(`step ${i + 1} finds its evidence at rank ${ranked.indexOf(at) + 1}`);
    }
    expect(misses).toEqual([]);
  });
});

describe('scenario sizes', () => {
  it('has the prototype lengths: 35 and 36 turns', () => {
    expect(customerSupport.steps).toHaveLength(35);
    expect(researchAssistant.steps).toHaveLength(36);
  });

  it('has probes within the first 12 customer_support turns (the e2e test runs 12)', () => {
    expect(customerSupport.steps.slice(0, 12).filter((s) => s.probe).length).toBeGreaterThanOrEqual(2);
  });
});
