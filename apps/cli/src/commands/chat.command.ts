import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { ApiClient } from '../http/api-client';
import { ApiError } from '../http/api-error';
import { formatMs } from '../report/text-table';
import { newSessionId } from '../scenarios/run-scenario';
import { type ApiOptions, clientFrom, withApiOptions } from './api-options';

const HELP = 'Commands: /history  /forget  /exit';
const PAGE = 100;

async function printHistory(client: ApiClient, session: string): Promise<void> {
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.history(session, offset, PAGE);
    for (const t of page.turns) console.log(`  #${t.seq} ${new Date(t.timestamp).toISOString()} ${t.role}: ${t.content}`);
    if (page.turns.length < PAGE || offset + PAGE >= page.total) {
      if (page.total === 0) console.log('  (no turns yet)');
      return;
    }
  }
}

async function answer(client: ApiClient, session: string, message: string, verbose: boolean): Promise<void> {
  const res = await client.chat(session, message);
  if (verbose) {
    console.log(`  ${res.memories.length} memories (${res.contextTokens} context tokens, ${res.dropped} dropped):`);
    for (const m of res.memories) console.log(`    sim ${m.similarity.toFixed(3)}  #${m.seq} ${m.role}: ${m.content}`);
    const t = res.timings;
    console.log(`  write ${formatMs(t.write)} · read ${formatMs(t.read)} · assemble ${formatMs(t.assemble)} · llm ${formatMs(t.llm)} · e2e ${formatMs(t.e2e)}`);
  }
  console.log(`assistant (${res.responder}): ${res.reply}`);
}

export function registerChat(program: Command): void {
  withApiOptions(program.command('chat'))
    .description('talk to the agent interactively')
    .option('--session <id>', 'session id (a new one by default)')
    .option('--verbose', 'show the retrieved memories and timings')
    .action(async (flags: { session?: string; verbose?: boolean } & ApiOptions) => {
      const client = clientFrom(flags);
      const session = flags.session ?? newSessionId('chat');
      const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' });
      console.log(`Session ${session}. ${HELP}`);
      rl.prompt();
      // The iterator buffers lines, so piped input works as well as typing; Ctrl-D ends it.
      for await (const raw of rl) {
        const line = raw.trim();
        if (line === '/exit') break;
        try {
          if (line === '/history') await printHistory(client, session);
          else if (line === '/forget') console.log(`  forgot ${(await client.forget(session)).deleted} turns`);
          else if (line.startsWith('/')) console.log(HELP);
          else if (line) await answer(client, session, line, Boolean(flags.verbose));
        } catch (err) {
          if (!(err instanceof ApiError || err instanceof TypeError)) throw err; // TypeError: fetch could not connect
          console.error(`  error: ${err.message}`);
        }
        rl.prompt();
      }
      rl.close();
    });
}
