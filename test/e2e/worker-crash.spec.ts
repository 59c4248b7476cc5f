import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { ApiClient } from '../../apps/cli/src/http/api-client';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { freePort, RedisServer } from '../support/redis-server';

/**
 * kill -9 of an embedder in the middle of a job: another replica takes the stalled job over and the turn is
 * stored exactly once. The embedder calls a local OpenAI-compatible server whose first answer is slow, so
 * the job is certainly in flight when the process dies.
 */
describe('embedder killed mid-job', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: 64 });
  const logs: string[] = [];
  const log = (name: string, line: string) => logs.push(`[${name}] ${line}`);
  let stack: StackHandle;
  let replacement: ManagedProcess | undefined;
  const env = () => ({
    LOG_LEVEL: 'warn',
    AUTH_MODE: 'none',
    EMBEDDING_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: wire.baseURL,
    EMBEDDING_DIM: '64',
    JOB_LOCK_MS: '1000',
    JOB_STALLED_INTERVAL_MS: '1000',
  });

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    stack = await startStack({ config: loadConfig(env()), redisUrl: redis.url, log });
  }, 60_000);

  afterAll(async () => {
    await replacement?.stop();
    await stack?.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  it('recovers the job on another replica without losing or duplicating the turn', async () => {
    const api = new ApiClient({ url: stack.apiUrl });
    const [embedderMetrics] = Object.entries(stack.workerMetrics).filter(([name]) => name.startsWith('embedder'));
    const { pid } = (await (await fetch(embedderMetrics[1].replace('/metrics', '/healthz'))).json()) as { pid: number };

    wire.failNext(1, { kind: 'slow', delayMs: 20_000 });
    const accepted = await api.addTurns('crash', [{ role: 'user', content: 'the vault combination is 31-7-42', id: 'crash-turn' }]);
    expect(accepted.turns).toHaveLength(1);
    while (wire.requests.length === 0) await new Promise((r) => setTimeout(r, 20));

    process.kill(pid, 'SIGKILL');
    const port = await freePort();
    replacement = new ManagedProcess(
      'embedder-2',
      process.execPath,
      [join(repoRoot(), 'dist/apps/embedder/src/main.js')],
      log,
      { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, METRICS_PORT: String(port), ...env() },
    );
    await replacement.start();

    const deadline = Date.now() + 20_000;
    while ((await api.history('crash')).total === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const history = await api.history('crash');
    expect(history.total).toBe(1);
    expect(history.turns[0]).toMatchObject({ turnId: 'crash-turn', content: 'the vault combination is 31-7-42' });
    expect((await api.memories('crash', 'vault combination')).memories.map((m) => m.content)).toEqual(['the vault combination is 31-7-42']);
    expect(wire.requests.filter((r) => r.path.endsWith('/embeddings')).length).toBeGreaterThanOrEqual(2);
  });
});
