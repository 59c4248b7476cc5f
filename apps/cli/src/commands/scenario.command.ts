import { type Command, InvalidArgumentError } from 'commander';
import { SingleBar } from 'cli-progress';
import type { ApiClient } from '../http/api-client';
import { formatScenarioRun } from '../report/format-scenario';
import { formatMs } from '../report/text-table';
import { SCENARIOS } from '../scenarios';
import { type CycleEvent, runScenario, type ScenarioRun } from '../scenarios/run-scenario';
import { type ApiOptions, clientFrom, positiveInt, withApiOptions } from './api-options';

export interface ScenarioFlags {
  turns?: number;
  /** A fresh one by default. */
  session?: string;
  verbose?: boolean;
  json?: boolean;
}

function printCycle(e: CycleEvent): void {
  const t = e.timings;
  console.log(`\n[${e.step}] user: ${e.say}`);
  console.log(`    assistant: ${e.reply}`);
  console.log(`    ${e.memories} memories · write ${formatMs(t.write)} · read ${formatMs(t.read)} · assemble ${formatMs(t.assemble)} · llm ${formatMs(t.llm)} · e2e ${formatMs(t.e2e)}`);
  if (e.probe) console.log(`    probe "${e.probe.answer}": ${e.probe.rank === null ? 'evidence NOT retrieved' : `evidence at rank ${e.probe.rank}`}`);
}

/** Runs a scenario and prints its report (or JSON); the exit code is 1 when a probe missed. */
export async function runAndReport(client: ApiClient, name: string, flags: ScenarioFlags): Promise<ScenarioRun> {
  const scenario = SCENARIOS[name];
  const total = Math.min(flags.turns ?? scenario.steps.length, scenario.steps.length);
  const progress = !flags.verbose && !flags.json && process.stderr.isTTY ? new SingleBar({ format: `${name} {bar} {value}/{total} turns` }) : undefined;
  progress?.start(total, 0);
  try {
    const run = await runScenario(client, scenario, {
      turns: total,
      session: flags.session,
      onCycle: flags.verbose && !flags.json ? printCycle : () => progress?.increment(),
    });
    progress?.stop();
    console.log(flags.json ? JSON.stringify(run, null, 2) : `\n${formatScenarioRun(run)}\n`);
    if (run.recall.hits < run.recall.probes) process.exitCode = 1;
    return run;
  } finally {
    progress?.stop();
  }
}

const scenarioName = (value: string): string => {
  if (!(value in SCENARIOS)) throw new InvalidArgumentError(`choose one of ${Object.keys(SCENARIOS).join(', ')}`);
  return value;
};

export function registerScenario(program: Command): void {
  withApiOptions(program.command('scenario'))
    .description('run a scripted conversation, check its recall probes, print the latency report')
    .argument('<name>', Object.keys(SCENARIOS).join(' | '), scenarioName)
    .option('--turns <n>', 'run only the first N turns', positiveInt)
    .option('--verbose', 'print every turn, its reply and timings')
    .option('--json', 'print the result as JSON')
    .action((name: string, flags: ScenarioFlags & ApiOptions) => runAndReport(clientFrom(flags), name, flags).then(() => undefined));
}
