import { join } from 'node:path';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { freePort, RedisServer } from '../support/redis-server';

/** The API's own output, into a pipe as in a log file, at a given LOG_LEVEL; stopped once /healthz answers. */
async function apiOutput(redisUrl: string, level: string): Promise<string[]> {
  const lines: string[] = [];
  const port = await freePort();
  const api = new ManagedProcess('api', process.execPath, [join(repoRoot(), 'dist/apps/api/src/main.js')], (_, line) => lines.push(line), {
    PATH: process.env.PATH!,
    REDIS_URL: redisUrl,
    API_PORT: String(port),
    LOG_LEVEL: level,
  });
  await api.start();
  try {
    for (let i = 0; i < 200; i++) {
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Its last start-up line comes right after listen(); give the pipe a moment.
    await new Promise((r) => setTimeout(r, 300));
    return lines;
  } finally {
    await api.stop();
  }
}

describe('logs', () => {
  const redis = new RedisServer();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  it('LOG_LEVEL=log: Nest start-up lines, no ANSI colours when the output is not a terminal', async () => {
    const lines = await apiOutput(redis.url, 'log');
    expect(lines.some((l) => l.includes('[NestFactory] Starting Nest application'))).toBe(true);
    expect(lines.some((l) => /\[api\] listening on/.test(l))).toBe(true);
    expect(lines.filter((l) => l.includes('\x1b['))).toEqual([]);
  });

  it('LOG_LEVEL=warn: not a single start-up line', async () => {
    expect(await apiOutput(redis.url, 'warn')).toEqual([]);
  });
});
