import { processConfig, processEnv } from '@app/memory/config/load-config';
import type { Command } from 'commander';
import { startStack, type StackHandle, type StackOptions, WORKER_APPS } from '../stack/stack';
import { freePort } from '../stack/free-port';
import { StackError } from '../stack/stack-error';
import { readStackFile, removeStackFile, stackFilePath, writeStackFile } from '../stack/stack-file';
import { intAtLeast, positiveInt } from './api-options';

export interface StackFlags {
  embedders: number;
  retrievers: number;
  extractors?: number;
  port: number;
  redisUrl?: string;
  embedderMetricsPort?: number;
  retrieverMetricsPort?: number;
  extractorMetricsPort?: number;
  cluster?: number;
}

export const stackOptions = (flags: StackFlags, signal: AbortSignal, extra: Partial<StackOptions> = {}): StackOptions => ({
  config: processConfig(),
  embedders: flags.embedders,
  retrievers: flags.retrievers,
  extractors: flags.extractors,
  port: flags.port,
  redisUrl: flags.redisUrl,
  metricsPorts: { embedder: flags.embedderMetricsPort, retriever: flags.retrieverMetricsPort, extractor: flags.extractorMetricsPort },
  clusterMasters: flags.cluster,
  signal,
  ...extra,
});

const port = intAtLeast(1);

/** The stack's flags, shared by `stack` and `demo`. */
export const withStackOptions = (cmd: Command, defaultPort = 3000): Command => {
  cmd
    .option('--embedders <n>', 'embedder processes', positiveInt, 1)
    .option('--retrievers <n>', 'retriever processes', positiveInt, 1)
    .option('--extractors <n>', 'extractor processes (default 1 with a real LLM_PROVIDER, 0 with the offline responder)', intAtLeast(0))
    .option('--port <port>', 'API port (0 = a free port)', intAtLeast(0), defaultPort)
    .option('--cluster <masters>', 'start a throwaway local Redis Cluster of this many masters instead (no persistence)', positiveInt);
  for (const app of WORKER_APPS) cmd.option(`--${app}-metrics-port <port>`, `/metrics port of ${app}-1; ${app}-N gets port + N - 1 (default: free ports)`, port);
  return cmd;
};

/** The stack's summary, one aligned row per part. */
export function describeStack(stack: StackHandle): string {
  const redisNote = stack.dataDir
    ? `started here; data in ${stack.dataDir}${stack.persist ? ' (AOF on)' : ' (not persisted)'}`
    : 'already running, not started here: the stack stores into it';
  const rows: [string, string, string?][] = [
    ['API', stack.apiUrl, `OpenAPI ${stack.apiUrl}/docs, metrics ${stack.apiUrl}/metrics`],
    ...(stack.apiKey ? [['API key', stack.apiKey, stack.apiKeyMadeUp ? 'made up for this run: API_KEYS is not set (the API counts it as 1 from API_KEYS)' : 'the first of API_KEYS'] as [string, string, string]] : []),
    ['Redis', stack.redisUrl, redisNote],
    ...Object.entries(stack.workerMetrics).map(([name, url]): [string, string] => [name, url]),
  ];
  const [w0, w1] = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map(([label, value, note]) => (note ? `${label.padEnd(w0)}  ${value.padEnd(w1)}  ${note}` : `${label.padEnd(w0)}  ${value}`)).join('\n');
}

export interface StopSignal {
  /** For startStack: aborted on Ctrl-C or SIGTERM while the stack is still starting. */
  signal: AbortSignal;
  /** From now on, Ctrl-C or SIGTERM stops this stack and exits. */
  attach(stack: StackHandle): void;
}

/**
 * Ctrl-C, SIGTERM and SIGHUP, handled from before the first child starts: the children run in their own process
 * group, so without this a signal during start-up would kill the launcher and leave them running. A closed
 * stdout or stderr (`npm run stack | tee log`, then Ctrl-C, which ends tee too) stops the stack the same way:
 * left unhandled, the first log line written into it (EPIPE) would crash the launcher halfway through stopping.
 */
export function stopOnSignal(exitCode = 0): StopSignal {
  const controller = new AbortController();
  let stack: StackHandle | undefined;
  const onSignal = (name: string) => {
    if (controller.signal.aborted) return;
    if (!process.stderr.destroyed) process.stderr.write(`\n${name}: stopping the stack…\n`);
    controller.abort(new Error(`${name} before the stack was ready`)); // startStack stops what it started and rejects
    if (stack) void stack.stop().then(() => process.exit(exitCode));
  };
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, onSignal);
  for (const [label, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    // Every later write fails the same way: the listener stays, and only the first one stops the stack.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      onSignal(`${label} closed`);
    });
  }
  return { signal: controller.signal, attach: (s) => (stack = s) };
}

/**
 * startStack for a script (a benchmark, the attack run): its children run detached, so without this a Ctrl-C or
 * SIGTERM would end the script and leave the API, the workers and their redis-server running.
 */
export async function startStackStoppedBySignal(options: Omit<StackOptions, 'signal'>): Promise<StackHandle> {
  const stop = stopOnSignal(130);
  const stack = await startStack({ ...options, signal: stop.signal });
  stop.attach(stack);
  return stack;
}

/**
 * The stack's Redis: the one named (--redis-url, REDIS_URL, REDIS_CLUSTER_NODES, --cluster), or else its own
 * redis-server on a free port with its data in ./.data: never whatever happens to answer on 6379.
 */
async function stackRedisUrl(flags: StackFlags): Promise<string | undefined> {
  const env = processEnv();
  if (flags.redisUrl || flags.cluster || env.REDIS_URL || env.REDIS_CLUSTER_NODES) return flags.redisUrl;
  const other = readStackFile();
  if (other) {
    throw new StackError(`another stack (pid ${other.pid}) runs from this checkout with its redis-server on ./.data: stop it, or share its Redis with --redis-url ${other.redisUrl}`);
  }
  return `redis://127.0.0.1:${await freePort()}`;
}

export function registerStack(program: Command): void {
  withStackOptions(program.command('stack'))
    .description('run a redis-server of its own (unless one is named), the API and the workers locally until Ctrl-C')
    .option('--redis-url <url>', 'Redis to use (default: REDIS_URL, or the cluster of REDIS_CLUSTER_NODES; neither set: a redis-server of its own on a free port, data in ./.data); a redis-server is started here on its port when none answers')
    .option('--fresh', "start the stack's own redis-server with an empty data directory (its earlier data is deleted)")
    .action(async (flags: StackFlags & { fresh?: boolean }) => {
      const stop = stopOnSignal();
      const redisUrl = await stackRedisUrl(flags);
      const stack = await startStack(stackOptions({ ...flags, redisUrl }, stop.signal, { fresh: flags.fresh }));
      stop.attach(stack);
      const other = readStackFile();
      let found: string;
      if (other) {
        found = `Another stack (pid ${other.pid}, ${other.apiUrl}) runs from this checkout and keeps ${stackFilePath()}: pass --url ${stack.apiUrl} to the other commands, or use:`;
      } else {
        const file = writeStackFile({ pid: process.pid, apiUrl: stack.apiUrl, apiKey: stack.apiKey, redisUrl: stack.redisUrl, workerMetrics: stack.workerMetrics });
        process.once('exit', () => removeStackFile()); // after Ctrl-C too: the handler stops the stack, then exits
        found = `The other commands (npm run cli -- …, npm run stress) find this stack through ${file}; other shells and tools can use:`;
      }
      const exportLines = [`export AGENT_MEMORY_URL=${stack.apiUrl}`, ...(stack.apiKey ? [`export AGENT_MEMORY_API_KEY=${stack.apiKey}`] : [])];
      console.log(['', 'The stack is ready. Ctrl-C stops it.', describeStack(stack), '', found, ...exportLines.map((line) => `  ${line}`), ''].join('\n'));
    });
}
