import type { Command } from 'commander';
import { ApiClient } from '../http/api-client';
import { customerSupport } from '../scenarios/customer-support';
import { startStack } from '../stack/stack';
import { runAndReport } from './scenario.command';
import { describeStack, stackOptions, stopOnSignal, withStackOptions } from './stack.command';

const KEEP_LOG_LINES = 200;

export function registerDemo(program: Command): void {
  withStackOptions(program.command('demo'), 0)
    .description('start the stack, run the customer_support scenario, print the report, stop')
    .option('--verbose', 'print every turn and the stack logs')
    .action(async (flags: { verbose?: boolean } & Parameters<typeof stackOptions>[0]) => {
      // The stack's logs would bury the report: keep the last lines, shown only if something fails.
      const logs: string[] = [];
      const keep = (name: string, line: string) => {
        logs.push(`[${name}] ${line}`);
        if (logs.length > KEEP_LOG_LINES) logs.shift();
      };
      console.log('Starting the stack (redis-server if needed, API, embedder, retriever)…');
      const stop = stopOnSignal(130);
      const stack = await startStack(stackOptions(flags, stop.signal, flags.verbose ? undefined : keep)).catch((err: Error) => {
        console.error(logs.join('\n'));
        throw err;
      });
      stop.attach(stack);
      console.log(`${describeStack(stack)}\n`);
      try {
        await runAndReport(new ApiClient({ url: stack.apiUrl, apiKey: stack.apiKey }), customerSupport.name, { verbose: flags.verbose });
      } catch (err) {
        console.error(logs.join('\n'));
        throw err;
      } finally {
        await stack.stop();
      }
    });
}
