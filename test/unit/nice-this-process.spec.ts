import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../apps/cli/src/stack/stack';

const MODULE = join(repoRoot(), 'dist/libs/memory/src/threads/nice-this-process.js');

/** Runs `body` in a node child (a session of its own when `detached`, as the stack's children are); its stdout, parsed. */
async function child<T>(body: string, detached: boolean): Promise<T> {
  const proc = spawn(process.execPath, ['-e', `const { niceThisProcess } = require(${JSON.stringify(MODULE)}); ${body}`], { detached, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => proc.once('exit', resolve));
  return JSON.parse(out) as T;
}

const REPORT = `niceThisProcess(10); console.log(JSON.stringify({ nice: require('node:os').getPriority(), group: require('node:fs').readFileSync('/proc/self/autogroup', 'utf8').trim() }))`;

/**
 * With autogroups on, CPU is shared between sessions before nice values count: an embedder in a session of its own (as
 * the stack starts it) took as much CPU at EMBEDDER_NICE as the API beside it (two spinning processes at nice 10 and two
 * at 0, each in its own session: 50 % of a core each).
 */
const describeLinux = process.platform === 'linux' && readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1' ? describe : describe.skip;

describeLinux('niceThisProcess with autogroups on', () => {
  it("sets a session leader's autogroup to its nice value", async () => {
    expect(await child(REPORT, true)).toEqual({ nice: 10, group: expect.stringMatching(/ nice 10$/) });
  });

  it("leaves a shared session's autogroup alone (it holds other processes too)", async () => {
    const ours = readFileSync('/proc/self/autogroup', 'utf8').trim();
    expect(await child(REPORT, false)).toEqual({ nice: 10, group: ours });
  });

  it('gives way to busy processes in other sessions', async () => {
    // twice as many processes as cores spin for 2 s, each in its own session; half of them niced
    const spin = (nice: boolean) =>
      child<number>(`${nice ? 'niceThisProcess(19);' : ''} const end = Date.now() + 2000; while (Date.now() < end); const u = process.cpuUsage(); console.log(u.user + u.system)`, true);
    const cores = availableParallelism();
    const sum = async (nice: boolean) => (await Promise.all(Array.from({ length: cores }, () => spin(nice)))).reduce((a, b) => a + b, 0);
    const [niced, plain] = await Promise.all([sum(true), sum(false)]);
    expect(niced / plain).toBeLessThan(0.5);
  });
});
