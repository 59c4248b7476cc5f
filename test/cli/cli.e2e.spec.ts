import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import type { StressResult } from '../../apps/cli/src/stress/run-stress';
import type { ScenarioRun } from '../../apps/cli/src/scenarios/run-scenario';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { launchChromium } from '../support/browser';
import { freePort, RedisServer } from '../support/redis-server';

const run = promisify(execFile);

/** The compiled CLI as a child process against a stack started through the CLI's own launcher. */
describe('CLI e2e (scenario and stress against a real stack)', () => {
  const redis = new RedisServer();
  const logs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-cli-'));
  let stack: StackHandle;
  const main = join(repoRoot(), 'dist/apps/cli/src/main.js');
  const cli = (...args: string[]) => run(process.execPath, [main, ...args, '--url', stack.apiUrl, '--api-key', stack.apiKey!], { timeout: 30_000 });
  /** The CLI with only the given environment (plus PATH): no flags to find the API. */
  const cliWithEnv = (env: Record<string, string>, ...args: string[]) => run(process.execPath, [main, ...args], { timeout: 30_000, env: { PATH: process.env.PATH!, ...env } });

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

  it('logs at LOG_LEVEL=warn without Nest\'s start-up lines, and without ANSI colours into a pipe', () => {
    expect(logs.filter((l) => /\bLOG\b.*\[(NestFactory|InstanceLoader|RoutesResolver|RouterExplorer|NestApplication)\]/.test(l))).toEqual([]);
    expect(logs.filter((l) => l.includes('\x1b['))).toEqual([]);
  });

  it('finds the API through AGENT_MEMORY_URL and AGENT_MEMORY_API_KEY', async () => {
    const { stdout } = await cliWithEnv({ AGENT_MEMORY_URL: stack.apiUrl, AGENT_MEMORY_API_KEY: stack.apiKey! }, 'scenario', 'customer_support', '--turns', '2', '--json');
    expect((JSON.parse(stdout) as ScenarioRun).turns).toBe(2);
  });

  it('names the URL it could not reach, and says whether a local stack is up', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const failed = await cliWithEnv({ AGENT_MEMORY_URL: url }, 'scenario', 'customer_support', '--turns', '1').catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 1 });
    const { stderr } = failed as { stderr: string };
    expect(stderr).toContain(`error: cannot reach the API at ${url} (ECONNREFUSED)`);
    expect(stderr).toMatch(/no local stack is running|the local stack \(pid \d+\) is up, at/);
  });

  it('issues a key into the Redis named by REDIS_URL, and says which', async () => {
    const { stdout, stderr } = await cliWithEnv({ REDIS_URL: redis.url }, 'keys', 'issue', '--tenant', 'acme');
    expect(stderr).toContain(`Redis ${redis.url} (from REDIS_URL)`);
    const client = new Redis(redis.url);
    try {
      expect(Object.values(await client.hgetall('mem-sys:apikeys')).map((grant) => JSON.parse(grant) as unknown)).toContainEqual({ tenant: 'acme', scopes: ['read', 'write'] });
    } finally {
      client.disconnect();
    }
    expect(stdout.trim()).toMatch(/^\S+$/); // the key alone on stdout
  });

  it('chats with piped input: memories with --verbose, /history, /forget, a transcript that reads as one', async () => {
    const chat = cli('chat', '--verbose', '--session', 'cli-e2e-chat');
    chat.child.stdin!.end('My dog is called Biscuit.\nWhat is my dog called?\n/history\n/forget\n/history\n');
    const { stdout } = await chat;
    expect(stdout).toContain('you> My dog is called Biscuit.\n');
    expect(stdout).toContain('you> What is my dog called?\n');
    expect(stdout).toMatch(/sim (0|1)\.\d{3} {2}#1 user: My dog is called Biscuit\./);
    expect(stdout).not.toMatch(/sim -0\.000|sim \d\.\d{4}/);
    // The offline responder names itself in its reply: the REPL does not name it a second time.
    expect(stdout).toMatch(/^assistant: \[offline extractive responder\] From the stored memories:\n {11}- My dog is called Biscuit\./m);
    expect(stdout).not.toContain('assistant (offline extractive responder)');
    expect(stdout).toContain('#3 ');
    // The first reply ("nothing stored yet") is a non-answer and was not stored.
    expect(stdout).toContain('forgot 3 turns');
    expect(stdout).toContain('(no turns yet)');
  });

  it('chats in a real terminal (tmux): typed lines echo once, answers follow, /exit leaves', async () => {
    const session = `agent-memory-e2e-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });
    const command = [process.execPath, main, 'chat', '--session', 'cli-e2e-tty', '--url', stack.apiUrl, '--api-key', stack.apiKey!].map((a) => `'${a}'`).join(' ');
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '50', `${command}; echo EXITED-$?; sleep 30`);
    const screen = () => tmux('capture-pane', '-p', '-t', session, '-S', '-100');
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !pattern.test(screen()); i++) await new Promise((r) => setTimeout(r, 100));
      return screen();
    };
    try {
      // tmux trims the prompt's trailing space from each captured line.
      await until(/^you>\s*$/m);
      tmux('send-keys', '-t', session, 'I live in Lisbon.', 'Enter');
      await until(/Lisbon\.\nassistant: [^\n]+\nyou>\s*$/);
      tmux('send-keys', '-t', session, 'Where do I live?', 'Enter');
      await until(/Where do I live\?\nassistant:(.|\n)*\nyou>\s*$/);
      tmux('send-keys', '-t', session, '/exit', 'Enter');
      const text = await until(/EXITED-0/);
      expect(text.match(/^you> I live in Lisbon\.$/gm)).toHaveLength(1); // echoed by the terminal, not twice
      expect(text).toMatch(/^you> Where do I live\?\nassistant: \[offline extractive responder\] From the stored memories:\n {11}- I live in Lisbon\.$/m);
      expect(text).toContain('EXITED-0');
    } finally {
      tmux('kill-server');
    }
  });

  it('floods 2 sessions × 50 turns and finds each turn stored exactly once', async () => {
    const out = join(dir, 'stress');
    const retrievers = Object.entries(stack.workerMetrics).filter(([name]) => name.startsWith('retriever')).map(([, url]) => url);
    const { stdout } = await cli('stress', '--sessions', '2', '--turns', '50', '--batch', '10', '--concurrency', '4', '--out', out, '--retriever-metrics', retrievers.join(','));
    expect(stdout).toContain(`Report: ${out}/stress.html`);
    const result = JSON.parse(readFileSync(join(out, 'stress.json'), 'utf8')) as StressResult;
    expect(result.accepted).toBe(100);
    expect(result.audit).toEqual({ sessions: 2, expected: 100, stored: 100, lost: 0, duplicated: 0, unacknowledged: 0, ok: true });
    expect(result.e2eLatency.count).toBeGreaterThanOrEqual(2);
    expect(result.timeline.at(-1)).toMatchObject({ accepted: 100, stored: 100, indexed: 100 });

    // The report in a real browser: every chart drawn, nothing fetched, the audit whole and not cut off.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const fetched: string[] = [];
      page.on('request', (req) => fetched.push(req.url()));
      await page.goto(`file://${join(out, 'stress.html')}`);
      const svgs = await page.locator('svg').evaluateAll((all) => all.map((svg) => svg.getBoundingClientRect().width));
      expect(svgs).toHaveLength(7);
      expect(svgs.every((w) => w > 500)).toBe(true);
      expect(await page.locator('svg text', { hasText: 'P99.9' }).count()).toBe(2);
      expect(fetched.filter((url) => !url.startsWith('file://'))).toEqual([]);
      const audit = page.locator('p.ok');
      expect(await audit.innerText()).toBe('Every acknowledged turn stored exactly once: 100 stored of 100 acknowledged, 0 lost, 0 duplicated, 0 stored unacknowledged.');
      // Nothing scrolls sideways: no element clips its content behind a scrollbar, the page fits its 1000 px.
      const clipped = `[...document.querySelectorAll('body *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible').length`;
      expect(await page.evaluate(clipped)).toBe(0);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await page.screenshot({ path: join(out, 'stress.png'), fullPage: true });
      expect(statSync(join(out, 'stress.png')).size).toBeGreaterThan(50_000);
    } finally {
      await browser.close();
    }
  });

  // Last: it changes the store's embedding generation (and rolls it back).
  it('reindex: shows the generations, refuses a bad target, follows a re-index to the switch, and rolls it back with --abort', async () => {
    const reindex = (...args: string[]) => cliWithEnv({ REDIS_URL: redis.url }, 'reindex', ...args);
    const idle = await reindex();
    expect(idle.stdout).toMatch(/^active: local\/local\/1024 \(\w{12}\)\nstate: idle$/m);
    const bad = await reindex('--to', 'local/bge/384').catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('the local embedder has no model: use local/local/384') });

    const started = await reindex('--to', 'local/local/384');
    expect(started.stderr).toMatch(/re-indexing to local\/local\/384 \(\w{12}\): \d+ turns and memories/);
    // Followed until the switch: the new generation is active, the old one kept for the grace period.
    expect(started.stdout).toMatch(/^active: local\/local\/384 .*\nstate: switched\nprevious: local\/local\/1024 /);
    const rolledBack = await reindex('--abort');
    expect(rolledBack.stdout).toMatch(/^active: local\/local\/1024 .*\nstate: idle\ndropping: local\/local\/384 /);
    expect((JSON.parse((await cli('scenario', 'customer_support', '--turns', '2', '--json')).stdout) as ScenarioRun).turns).toBe(2);
  }, 60_000);
});
