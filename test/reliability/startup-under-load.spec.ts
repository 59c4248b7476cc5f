import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { repoRoot, toEnv } from '../../apps/cli/src/stack/stack';
import { freePort, RedisServer } from '../support/redis-server';
import { DIM } from './support/reliability-stack';
import { StackLogs } from './support/stack-logs';
import { waitUntil } from './support/wait-until';

/**
 * Issue 21 item 11: at load 10.7, 3 of 6 workers exited with "Command timed out" during module init, and stayed dead.
 * Emulated by a Redis kept busy (back-to-back scripts that spin for longer than REDIS_COMMAND_TIMEOUT_MS) while the
 * workers start: they must retry their start-up calls and come up once Redis answers in time, not exit.
 */
describe('workers starting while Redis is slow to answer', () => {
  const redis = new RedisServer();
  const logs = new StackLogs();
  const workers: { process: ManagedProcess; healthz: string }[] = [];

  beforeAll(async () => {
    await redis.start();
  });

  afterAll(async () => {
    for (const w of workers) await w.process.stop();
    await redis.stop();
  });

  it('retries their Redis calls at start-up and come up once it answers', async () => {
    const config = loadConfig({ LOG_LEVEL: 'warn', EMBEDDING_DIM: String(DIM), VECTOR_BACKEND: 'hnsw', REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' });
    const busy = redis.client();
    let spinning = true;
    // Each script holds Redis for 0.5 s; a command that arrives meanwhile waits for it (past the 0.3 s timeout).
    const spin = (async () => {
      while (spinning) await busy.eval("local t = redis.call('TIME') local stop = t[1] * 1e6 + t[2] + 500000 repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] >= stop", 0);
    })();
    try {
      for (const app of ['embedder', 'retriever']) {
        const port = await freePort();
        const process = new ManagedProcess(app, globalThis.process.execPath, [join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js')], logs.sink, toEnv(config, { METRICS_PORT: port, METRICS_HOST: '127.0.0.1' }));
        await process.start();
        workers.push({ process, healthz: `http://127.0.0.1:${port}/healthz` });
      }
      await new Promise((r) => setTimeout(r, 15_000)); // past their module init, on a loaded machine too
    } finally {
      spinning = false;
      await spin;
      busy.disconnect();
    }
    const healthy = async (url: string) => (await fetch(url).catch(() => undefined))?.status === 200;
    const allHealthy = async () => (await Promise.all(workers.map((w) => healthy(w.healthz)))).every(Boolean);
    const anyDead = () => workers.some((w) => !w.process.running);
    await waitUntil('both workers answer /healthz (or one exits)', async () => anyDead() || (await allHealthy()), 60_000, () => logs.tail());
    expect([workers.map((w) => w.process.running), logs.tail()]).toEqual([[true, true], expect.anything()]);
    expect(await allHealthy()).toBe(true);
  }, 90_000);
});
