import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { alive, childPids } from '../support/processes';

/**
 * `npm run stack` as users run it: the compiled launcher, no Redis named, its output into a pipe that closes
 * (`npm run stack | tee log`, then Ctrl-C, which ends tee as well as the launcher).
 */
describe('stack command', () => {
  const root = repoRoot();
  const dataDir = join(root, '.data');
  const hadData = existsSync(dataDir);
  // No .env of a developer's in the working directory, and no REDIS_URL in the environment.
  const cwd = mkdtempSync(join(tmpdir(), 'agent-memory-stack-cmd-'));
  let launcher: ChildProcess | undefined;
  let pids: number[] = [];

  afterAll(() => {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    if (launcher?.exitCode === null) launcher.kill('SIGKILL');
    if (!hadData) rmSync(dataDir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts its own redis-server on a free port with data in ./.data, and takes every child down when its stdout pipe closes and Ctrl-C comes', async () => {
    launcher = spawn(process.execPath, [join(root, 'dist/apps/cli/src/main.js'), 'stack', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH!, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    launcher.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let stdout = '';
    const exited = new Promise<number | string>((resolve) => launcher!.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    await new Promise<void>((resolve, reject) => {
      launcher!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/^Redis .*\n/m.test(stdout.slice(stdout.indexOf('The stack is ready')))) resolve();
      });
      void exited.then((code) => reject(new Error(`the stack exited with ${code} before it was ready:\n${stdout}\n${stderr}`)));
    });

    const redisLine = /^Redis\s+redis:\/\/127\.0\.0\.1:(\d+)\s+(.*)$/m.exec(stdout);
    expect(redisLine).not.toBeNull();
    expect(Number(redisLine![1])).not.toBe(6379);
    expect(redisLine![2]).toBe(`started here; data in ${dataDir} (AOF on)`);

    pids = childPids(launcher.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(4); // redis-server, the API, an embedder and a retriever
    launcher.stdout!.destroy(); // tee is gone: the launcher's next log line meets a closed pipe
    launcher.kill('SIGINT');
    // It stops the stack and exits cleanly: not crashed by its first log line into the closed pipe (EPIPE), which
    // left the children that had not been stopped yet running, re-parented to init.
    expect([await exited, stderr]).toEqual([0, expect.stringContaining('SIGINT: stopping the stack')]);
    // Behavioural, not timed: the children get their own grace period (ManagedProcess.stop), then SIGKILL.
    for (const deadline = Date.now() + 45_000; pids.some(alive) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
    expect(pids.filter(alive)).toEqual([]);
  }, 120_000);
});
