import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@app/memory/config/load-config';
import type { StressResult } from '../../apps/cli/src/stress/run-stress';
import type { ScenarioRun } from '../../apps/cli/src/scenarios/run-scenario';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

const run = promisify(execFile);

/** The compiled CLI as a child process against a stack started through the CLI's own launcher. */
describe('CLI e2e (scenario and stress against a real stack)', () => {
  const redis = new RedisServer();
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-cli-'));
  let stack: StackHandle;
  const cli = (...args: string[]) =>
    run(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), ...args, '--url', stack.apiUrl, '--api-key', stack.apiKey!], { timeout: 30_000 });

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn' }), redisUrl: redis.url, log: (name, line) => logs.push(`[${name}] ${line}`) });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('made up an API key, since none was configured', () => {
    expect(stack.apiKey).toMatch(/^local-/);
  });

  it('runs customer_support for 12 turns with every recall probe answered and all five latencies', async () => {
    const { stdout } = await cli('scenario', 'customer_support', '--turns', '12', '--json');
    const result = JSON.parse(stdout) as ScenarioRun;
    expect(result.turns).toBe(12);
    expect(result.recall.probes).toBeGreaterThanOrEqual(2);
    expect(result.recall.recall).toBe(1);
    for (const op of ['write', 'read', 'assemble', 'llm', 'e2e'] as const) {
      expect(result.latency.operations[op].count).toBe(12);
      expect(result.latency.operations[op].p99).toBeGreaterThanOrEqual(result.latency.operations[op].p50);
    }
    expect(result.latency.operations.e2e.p50).toBeGreaterThan(0);
  });

  it('chats interactively: memories with --verbose, /history, /forget', async () => {
    const chat = cli('chat', '--verbose', '--session', 'cli-e2e-chat');
    chat.child.stdin!.end('My dog is called Biscuit.\nWhat is my dog called?\n/history\n/forget\n/history\n');
    const { stdout } = await chat;
    expect(stdout).toMatch(/sim [\d.-]+ {2}#1 user: My dog is called Biscuit\./);
    expect(stdout).toContain('#3 ');
    // The first reply ("nothing stored yet") is a non-answer and was not stored.
    expect(stdout).toContain('forgot 3 turns');
    expect(stdout).toContain('(no turns yet)');
  });

  it('floods 2 sessions × 50 turns and finds each turn stored exactly once', async () => {
    const json = join(dir, 'stress.json');
    const html = join(dir, 'stress.html');
    await cli('stress', '--sessions', '2', '--turns', '50', '--batch', '10', '--concurrency', '4', '--json', json, '--html', html);
    const result = JSON.parse(readFileSync(json, 'utf8')) as StressResult;
    expect(result.accepted).toBe(100);
    expect(result.audit).toEqual({ sessions: 2, expected: 100, stored: 100, lost: 0, duplicated: 0, unacknowledged: 0, ok: true });
    expect(result.e2eLatency.count).toBeGreaterThanOrEqual(2);
    expect(readFileSync(html, 'utf8')).toContain('<svg');
  });
});
