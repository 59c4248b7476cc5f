import { writeFileSync } from 'node:fs';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { formatStress } from '../report/format-stress';
import { describeMachine, machine } from '../report/machine';
import { stressHtml } from '../report/stress-html';
import { runStress, type StressOptions } from '../stress/run-stress';
import { type ApiOptions, clientFrom, positiveInt, withApiOptions } from './api-options';

interface StressFlags extends ApiOptions, Omit<StressOptions, 'durationS' | 'drainTimeoutS' | 'sampleEveryMs'> {
  duration: number;
  drainTimeout: number;
  json?: string;
  html?: string;
}

/** Upper bounds: a load test here must stay bounded in count and time. */
const MAX_TURNS = 2_000_000;
const MAX_SECONDS = 600;

export function registerStress(program: Command): void {
  withApiOptions(program.command('stress'))
    .description('flood the API (loopback only) with batched turns, then check every turn is stored exactly once')
    .option('--sessions <n>', 'sessions', positiveInt, 20)
    .option('--turns <n>', 'turns per session', positiveInt, 500)
    .option('--concurrency <n>', 'requests in flight', positiveInt, 16)
    .option('--batch <n>', 'turns per POST', positiveInt, 100)
    .option('--rate <n>', 'at most N turns/s (default: as fast as possible)', positiveInt)
    .option('--duration <s>', `stop sending after S seconds (at most ${MAX_SECONDS})`, positiveInt, 120)
    .option('--wait-every <n>', 'send every Nth batch with ?wait=true to sample accept -> searchable latency', positiveInt, 10)
    .option('--drain-timeout <s>', 'seconds to wait for storage after the last POST', positiveInt, 120)
    .option('--json <file>', 'write the result as JSON')
    .option('--html <file>', 'write a self-contained HTML report')
    .action(async (f: StressFlags) => {
      if (f.sessions * f.turns > MAX_TURNS) throw new Error(`at most ${MAX_TURNS} turns per run`);
      const options: StressOptions = {
        sessions: f.sessions,
        turns: f.turns,
        concurrency: f.concurrency,
        batch: f.batch,
        rate: f.rate,
        durationS: Math.min(f.duration, MAX_SECONDS),
        waitEvery: f.waitEvery,
        drainTimeoutS: Math.min(f.drainTimeout, MAX_SECONDS),
        sampleEveryMs: 250,
      };
      const total = f.sessions * f.turns;
      const bars = process.stderr.isTTY ? new MultiBar({ format: '{name} {bar} {value}/{total}', hideCursor: true }, Presets.shades_classic) : undefined;
      const acked = bars?.create(total, 0, { name: 'acknowledged' });
      const stored = bars?.create(total, 0, { name: 'stored      ' });
      const result = await runStress(clientFrom(f), options, {
        onAccepted: (n) => acked?.update(n),
        onStored: (n) => stored?.update(Math.min(n, total)),
      }).finally(() => bars?.stop());
      const m = machine();
      console.log(`\n${formatStress(result)}\nMachine: ${describeMachine(m)}`);
      if (f.json) writeFileSync(f.json, `${JSON.stringify({ machine: m, ...result }, null, 2)}\n`);
      if (f.html) writeFileSync(f.html, stressHtml(result, `Machine: ${describeMachine(m)}`));
      if (!result.audit.ok) process.exitCode = 1;
    });
}
