import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../http/api-client';
import type { Timings } from '../http/api-types';
import { buildLatencyReport, type LatencyReport } from '../report/latency-report';
import { evidenceRank, recallOf, type ProbeOutcome, type Recall } from './recall';
import { evidenceStep, type Scenario } from './scenario';

export interface ScenarioRun {
  scenario: string;
  session: string;
  /** User messages sent; each cycle stores two turns (the message and the reply). */
  turns: number;
  responder: string;
  recall: Recall;
  probes: ProbeOutcome[];
  latency: LatencyReport;
}

export interface RunOptions {
  /** Run only the first N steps. */
  turns?: number;
  session?: string;
  /** Called after each cycle, e.g. to print it or move a progress bar. */
  onCycle?: (event: CycleEvent) => void;
}

export interface CycleEvent {
  step: number;
  say: string;
  reply: string;
  memories: number;
  timings: Timings;
  probe?: ProbeOutcome;
}

/** A fresh session id per run, so runs never see each other's memories. */
export const newSessionId = (scenario: string): string => `${scenario.replace(/_/g, '-')}-${randomUUID().slice(0, 8)}`;

/** Sends the script through the chat endpoint, checking each probe's retrieved memories. */
export async function runScenario(client: ApiClient, scenario: Scenario, options: RunOptions = {}): Promise<ScenarioRun> {
  const session = options.session ?? newSessionId(scenario.name);
  const steps = scenario.steps.slice(0, options.turns ?? scenario.steps.length);
  const cycles: Timings[] = [];
  const probes: ProbeOutcome[] = [];
  let responder = '';
  for (const [i, step] of steps.entries()) {
    const res = await client.chat(session, step.say);
    responder = res.responder;
    cycles.push(res.timings);
    let probe: ProbeOutcome | undefined;
    if (step.probe) {
      const evidence = evidenceStep(scenario, step.probe.evidence);
      if (!evidence) throw new Error(`${scenario.name} step ${i + 1}: no step states fact "${step.probe.evidence}"`);
      probe = {
        step: i + 1,
        question: step.say,
        evidence: evidence.say,
        answer: step.probe.answer,
        rank: evidenceRank(evidence.say, res.memories),
        answered: res.reply.includes(step.probe.answer),
      };
      probes.push(probe);
    }
    options.onCycle?.({ step: i + 1, say: step.say, reply: res.reply, memories: res.memories.length, timings: res.timings, probe });
  }
  return {
    scenario: scenario.name,
    session,
    turns: steps.length,
    responder,
    recall: recallOf(probes),
    probes,
    latency: buildLatencyReport(cycles),
  };
}
