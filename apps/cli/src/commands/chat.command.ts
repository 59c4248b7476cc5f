import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { unreachableHint } from '../config/cli-config';
import type { ApiClient } from '../http/api-client';
import { ApiError } from '../http/api-error';
import { ApiUnreachableError } from '../http/api-unreachable.error';
import { formatAnswer, formatHistoryTurn } from '../report/format-chat';
import { newSessionId } from '../scenarios/run-scenario';
import { type ApiOptions, clientFrom, withApiOptions } from './api-options';

const HELP = 'Commands: /history  /forget  /exit';
const PAGE = 100;
const PROMPT = 'you> ';

async function printHistory(client: ApiClient, session: string): Promise<void> {
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.history(session, offset, PAGE);
    for (const t of page.turns) console.log(formatHistoryTurn(t));
    if (page.turns.length < PAGE || offset + PAGE >= page.total) {
      if (page.total === 0) console.log('  (no turns yet)');
      return;
    }
  }
}

export function registerChat(program: Command): void {
  withApiOptions(program.command('chat'))
    .description('talk to the agent interactively')
    .option('--session <id>', 'session id (a new one by default)')
    .option('--verbose', 'show the retrieved memories and timings')
    .action(async (flags: { session?: string; verbose?: boolean } & ApiOptions) => {
      const client = clientFrom(flags);
      const session = flags.session ?? newSessionId('chat');
      // A terminal echoes what is typed; piped lines are echoed here, so the transcript reads as a conversation.
      const echo = !process.stdin.isTTY;
      const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: PROMPT });
      console.log(`Session ${session} on ${client.url}. ${HELP}`);
      rl.prompt();
      let exited = false;
      // The iterator buffers lines, so piped input works as well as typing; Ctrl-D ends it.
      for await (const raw of rl) {
        if (echo) process.stdout.write(`${raw}\n`);
        const line = raw.trim();
        if ((exited = line === '/exit')) break;
        try {
          if (line === '/history') await printHistory(client, session);
          else if (line === '/forget') console.log(`  forgot ${(await client.forget(session)).deleted} turns`);
          else if (line.startsWith('/')) console.log(HELP);
          else if (line) console.log(formatAnswer(await client.chat(session, line), Boolean(flags.verbose)));
        } catch (err) {
          if (err instanceof ApiUnreachableError) console.error(`  error: ${err.message}\n  ${unreachableHint(err.url)}`);
          else if (err instanceof ApiError) console.error(`  error: ${err.message}`);
          else throw err;
        }
        rl.prompt();
      }
      if (!exited) process.stdout.write('\n'); // Ctrl-D or the end of the input: leave the last prompt's line
      rl.close();
    });
}
