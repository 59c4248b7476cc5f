import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { resolveApi } from '../config/cli-config';
import { ApiClient } from '../http/api-client';
import { formatStress } from '../report/format-stress';
import { describeMachine, machine } from '../report/machine';
import { stressHtml } from '../report/stress-html';
import { runStress, type StressOptions } from '../stress/run-stress';
import { type ApiOptions, list, positiveInt, withApiOptions } from './api-options';

interface StressFlags extends ApiOptions, Omit<StressOptions, 'durationS' | 'drainTimeoutS' | 'sampleEveryMs' | 'retrieverMetrics'> {
  duration: number;
  drainTimeout: number;
  out?: string;
  retrieverMetrics?: string[];
}

/** Upper bounds: a load test here must stay bounded in count and time. */
const MAX_TURNS = 2_000_000;
const MAX_SECONDS = 600;

/** ./reports/2026-12-01T09-15-02: sortable, and a valid file name everywhere. */
const defaultOut = (): string => join('reports', new Date().toISOString().slice(0, 19).replace(/:/g, '-'));

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
    .option('--retriever-metrics <urls>', "the retrievers' /metrics, for the searchable curve (default: the running stack's)", list)
    .option('--out <dir>', 'where stress.json and stress.html go (default: ./reports/<date and time>)')
    .action(async (f: StressFlags) => {
      if (f.sessions * f.turns > MAX_TURNS) throw new Error(`at most ${MAX_TURNS} turns per run`);
      const target = resolveApi(f);
      const retrievers = Object.entries(target.stack?.workerMetrics ?? {}).filter(([name]) => name.startsWith('retriever'));
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
        retrieverMetrics: f.retrieverMetrics ?? retrievers.map(([, url]) => url),
      };
      const total = f.sessions * f.turns;
      const bars = process.stderr.isTTY ? new MultiBar({ format: '{name} {bar} {value}/{total}', hideCursor: true }, Presets.shades_classic) : undefined;
      const acked = bars?.create(total, 0, { name: 'acknowledged' });
      const stored = bars?.create(total, 0, { name: 'stored      ' });
      const result = await runStress(new ApiClient(target), options, {
        onAccepted: (n) => acked?.update(n),
        onStored: (n) => stored?.update(Math.min(n, total)),
      }).finally(() => bars?.stop());
      const m = machine();
      console.log(`\n${formatStress(result)}\nMachine: ${describeMachine(m)}`);
      const out = resolve(f.out ?? defaultOut());
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'stress.json'), `${JSON.stringify({ machine: m, ...result }, null, 2)}\n`);
      const html = join(out, 'stress.html');
      writeFileSync(html, await stressHtml(result, `Machine: ${describeMachine(m)}`));
      const shown = html.startsWith(`${process.cwd()}${sep}`) ? relative(process.cwd(), html) : html;
      console.log(`Report: ${shown} (figures in stress.json beside it)`);
      if (!result.audit.ok) process.exitCode = 1;
    });
}
