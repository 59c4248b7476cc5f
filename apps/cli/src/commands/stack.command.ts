import { processConfig } from '@app/memory/config/load-config';
import type { Command } from 'commander';
import { startStack, type StackHandle, type StackOptions, WORKER_APPS } from '../stack/stack';
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
    ...(stack.apiKey ? [['API key', stack.apiKey] as [string, string]] : []),
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
 * Ctrl-C and SIGTERM, handled from before the first child starts: the children run in their own process
 * group, so without this a signal during start-up would kill the launcher and leave them running.
 */
export function stopOnSignal(exitCode = 0): StopSignal {
  const controller = new AbortController();
  let stack: StackHandle | undefined;
  const onSignal = (name: string) => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\n${name}: stopping the stack…\n`);
    controller.abort(new Error(`${name} before the stack was ready`)); // startStack stops what it started and rejects
    if (stack) void stack.stop().then(() => process.exit(exitCode));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: controller.signal, attach: (s) => (stack = s) };
}

export function registerStack(program: Command): void {
  withStackOptions(program.command('stack'))
    .description('run redis (if none answers), the API and the workers locally until Ctrl-C')
    .option('--redis-url <url>', 'Redis to use (default: REDIS_URL, or the cluster of REDIS_CLUSTER_NODES); a redis-server is started here on its port when none answers')
    .option('--fresh', "start the stack's own redis-server with an empty data directory (its earlier data is deleted)")
    .action(async (flags: StackFlags & { fresh?: boolean }) => {
      const stop = stopOnSignal();
      const stack = await startStack(stackOptions(flags, stop.signal, { fresh: flags.fresh }));
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
