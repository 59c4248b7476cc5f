import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ApiClient } from '../http/api-client';
import { ApiError } from '../http/api-error';
import { customerSupport } from '../scenarios/customer-support';
import { newSessionId } from '../scenarios/run-scenario';
import { freePort } from '../stack/free-port';
import { startStack, type StackHandle } from '../stack/stack';
import { runAndReport } from './scenario.command';
import { describeStack, type StackFlags, stackOptions, stopOnSignal, withStackOptions } from './stack.command';

const KEEP_LOG_LINES = 200;

interface DemoFlags extends StackFlags {
  verbose?: boolean;
  keep?: boolean;
}

/** What --keep left, and how to open it again. */
function keptNote(stack: StackHandle, session: string): string {
  const where = stack.dataDir
    ? `in ${stack.dataDir} (AOF); reopen it with\n  redis-server --dir ${stack.dataDir} --appendonly yes --port ${new URL(stack.redisUrl).port} &\n  npm run stack -- --redis-url ${stack.redisUrl}`
    : `in ${stack.redisUrl}`;
  return `Kept session ${session} ${where}`;
}

/** 404: the scenario failed before its first turn was stored, and there is nothing to forget. */
async function forgetIfStored(client: ApiClient, session: string): Promise<void> {
  await client.forget(session).catch((err: Error) => {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  });
}

export function registerDemo(program: Command): void {
  withStackOptions(program.command('demo'), 0)
    .description('start a private stack, run the customer_support scenario, print the report, stop and clean up')
    .option('--redis-url <url>', 'use this Redis instead of a private redis-server on a free port')
    .option('--keep', "keep the demo's data: the private redis-server's directory, or the session in --redis-url")
    .option('--verbose', 'print every turn and the stack logs')
    .action(async (flags: DemoFlags) => {
      // The stack's logs would bury the report: keep the last lines, shown only if something fails.
      const logs: string[] = [];
      const keep = (name: string, line: string) => {
        logs.push(`[${name}] ${line}`);
        if (logs.length > KEEP_LOG_LINES) logs.shift();
      };
      const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-demo-'));
      const redisUrl = flags.redisUrl ?? `redis://127.0.0.1:${await freePort()}`;
      console.log(`Starting a stack (${flags.redisUrl ? `Redis at ${redisUrl}` : 'a private redis-server'}, API, embedder, retriever)…`);
      const stop = stopOnSignal(130);
      const options = stackOptions({ ...flags, redisUrl }, stop.signal, { dataDir, persist: Boolean(flags.keep), log: flags.verbose ? undefined : keep });
      const stack = await startStack(options).catch((err: Error) => {
        console.error(logs.join('\n'));
        rmSync(dataDir, { recursive: true, force: true });
        throw err;
      });
      stop.attach(stack);
      console.log(`${describeStack(stack)}\n`);
      const client = new ApiClient({ url: stack.apiUrl, apiKey: stack.apiKey });
      const session = newSessionId(customerSupport.name);
      try {
        await runAndReport(client, customerSupport.name, { verbose: flags.verbose, session });
      } catch (err) {
        console.error(logs.join('\n'));
        throw err;
      } finally {
        // A private Redis goes with its directory; in someone else's Redis, the demo forgets its session.
        if (!flags.keep && !stack.dataDir) await forgetIfStored(client, session);
        await stack.stop();
        if (flags.keep) console.log(keptNote(stack, session));
        if (!(flags.keep && stack.dataDir)) rmSync(dataDir, { recursive: true, force: true });
      }
    });
}
