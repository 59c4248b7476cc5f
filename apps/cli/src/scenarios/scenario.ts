/**
 * A scripted conversation: user messages sent one by one to the chat endpoint.
 * A step may record a fact (`fact`: a label) that a later step asks about (`probe`).
 * The run checks that the fact's turn is among the memories retrieved for the probe.
 */
export interface ScenarioStep {
  say: string;
  /** Label of the fact this step states, for probes to point at. */
  fact?: string;
  probe?: Probe;
}

export interface Probe {
  /** Label of the earlier step that holds the answer. */
  evidence: string;
  /** The exact answer: it must appear in the evidence step's text. */
  answer: string;
}

export interface Scenario {
  name: string;
  description: string;
  steps: readonly ScenarioStep[];
}

/** The step that states a fact; undefined when no step does. */
export const evidenceStep = (scenario: Scenario, label: string): ScenarioStep | undefined =>
  scenario.steps.find((s) => s.fact === label);
