import { processConfig } from '@app/memory/config/load-config';
import type { Command } from 'commander';
import { startStack, type StackHandle, type StackOptions } from '../stack/stack';
import { intAtLeast, positiveInt } from './api-options';

interface StackFlags {
  embedders: number;
  retrievers: number;
  port: number;
  redisUrl?: string;
}

export const stackOptions = (flags: StackFlags, signal: AbortSignal, log?: StackOptions['log']): StackOptions => ({
  config: processConfig(),
  embedders: flags.embedders,
  retrievers: flags.retrievers,
  port: flags.port,
  redisUrl: flags.redisUrl,
  signal,
  log,
});

/** The stack's flags, shared by `stack` and `demo`. */
export const withStackOptions = (cmd: Command, defaultPort = 3000): Command =>
  cmd
    .option('--embedders <n>', 'embedder processes', positiveInt, 1)
    .option('--retrievers <n>', 'retriever processes', positiveInt, 1)
    .option('--port <port>', 'API port (0 = a free port)', intAtLeast(0), defaultPort)
    .option('--redis-url <url>', 'Redis to use (default: REDIS_URL); started here when none answers and redis-server exists');

export function describeStack(stack: StackHandle): string {
  return [
    `API        ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/docs, metrics: ${stack.apiUrl}/metrics)`,
    ...(stack.apiKey ? [`API key    ${stack.apiKey}   (pass it as --api-key to the other commands)`] : []),
    `Redis      ${stack.redisUrl}${stack.startedRedis ? '   (started here, data in ./.data, AOF on)' : ''}`,
    ...Object.entries(stack.workerMetrics).map(([name, url]) => `${name.padEnd(10)} ${url}`),
  ].join('\n');
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
    .description('run redis (if needed), the API and the workers locally until Ctrl-C')
    .action(async (flags: StackFlags) => {
      const stop = stopOnSignal();
      const stack = await startStack(stackOptions(flags, stop.signal));
      stop.attach(stack);
      console.log(`\nThe stack is ready. Ctrl-C stops it.\n${describeStack(stack)}\n`);
    });
}
