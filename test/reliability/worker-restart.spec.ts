import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { RedisServer } from '../support/redis-server';
import { type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

/**
 * Issue 21 item 11: compose restarts a worker that dies; `npm run stack` left it dead. The stack now restarts its
 * workers with a doubling delay, and gives up on one that keeps dying at once.
 */
describe('the stack restarts a worker that dies', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  useReliabilityStack(redis, {}, (stack) => (rs = stack));

  const healthz = async (url: string) => {
    const res = await fetch(url.replace(/\/metrics$/, '/healthz')).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { pid: number }).pid : undefined;
  };

  it('starts a SIGKILLed embedder again, and it serves writes', async () => {
    const url = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('embedder'))![1];
    const pid = (await healthz(url))!;
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new embedder answers /healthz', async () => ![undefined, pid].includes(await healthz(url)), 60_000, () => rs.logs.tail());
    expect(rs.logs.tail()).toMatch(/exited with SIGKILL; restarting in 1 s/);
    expect((await rs.call('POST', '/v1/sessions/restarted/turns?wait=true', { role: 'user', content: 'stored by the new embedder' })).status).toBe(200);
  }, 90_000);

  it('gives up on a process that keeps exiting at once, after its restarts in a row', async () => {
    const lines: string[] = [];
    const p = new ManagedProcess('failing', process.execPath, ['-e', 'process.exit(3)'], (_, line) => lines.push(line)).keepAlive(2);
    await p.start();
    await waitUntil('it is down for good', async () => p.down && lines.some((l) => l.includes('not restarted')), 10_000);
    expect(lines).toEqual(['exited with 3; restarting in 1 s', 'exited with 3; restarting in 2 s', 'exited with 3; not restarted (2 restarts in a row)']);
  });
});
