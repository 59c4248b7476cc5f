import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { alive, childPids } from '../support/processes';

/**
 * A benchmark's stack runs in its own process groups (so that `npm run stack` can stop it cleanly): a SIGTERM or a
 * Ctrl-C that ends the script must stop the API, the workers and the redis-server it started, not leave them running.
 */
describe('a benchmark stopped by a signal', () => {
  it('stops the stack it started', async () => {
    const bench = spawn('node', ['dist/scripts/bench-pipeline.js', '--n', '300', '--sessions', '10', '--queries', '100000'], { cwd: repoRoot(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    bench.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(bench, 'exit');
    try {
      // once preloaded, the stack is up and the script goes on measuring for minutes
      for (const deadline = Date.now() + 120_000; !/preloaded 300 observations/.test(stderr); ) {
        if (Date.now() > deadline || bench.exitCode !== null) throw new Error(`the benchmark did not preload:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const children = childPids(bench.pid!);
      expect(children.length).toBe(4); // redis-server, the API, an embedder and a retriever

      bench.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(130);
      expect(children.filter(alive)).toEqual([]);
    } finally {
      if (bench.exitCode === null) bench.kill('SIGKILL');
    }
  }, 180_000);
});
