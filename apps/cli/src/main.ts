#!/usr/bin/env node
import { Command } from 'commander';
import { unreachableHint } from './config/cli-config';
import { ApiUnreachableError } from './http/api-unreachable.error';
import { registerBench } from './commands/bench.command';
import { registerChat } from './commands/chat.command';
import { registerDemo } from './commands/demo.command';
import { registerKeys } from './commands/keys.command';
import { registerMigrate } from './commands/migrate.command';
import { registerReindex } from './commands/reindex.command';
import { registerScenario } from './commands/scenario.command';
import { registerStack } from './commands/stack.command';
import { registerStress } from './commands/stress.command';

const program = new Command('agent-memory')
  .description('Scenarios, chat, stress and benchmarks against the agent-memory HTTP API, and a local stack launcher')
  .showHelpAfterError();
for (const register of [registerStack, registerDemo, registerScenario, registerChat, registerStress, registerBench, registerKeys, registerMigrate, registerReindex]) register(program);

program.parseAsync().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  if (err instanceof ApiUnreachableError) console.error(`  ${unreachableHint(err.url)}`);
  process.exit(1);
});
