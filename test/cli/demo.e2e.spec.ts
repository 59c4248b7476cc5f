import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

const run = promisify(execFile);

/** `npm run demo` as a new user runs it, next to a Redis of their own that it must not touch. */
describe('demo', () => {
  const theirs = new RedisServer();
  // The demo's own temporary directory (TMPDIR): other demos running on the machine put theirs elsewhere.
  const tmp = mkdtempSync(join(tmpdir(), 'agent-memory-demo-test-'));
  beforeAll(() => theirs.start());
  afterAll(async () => {
    await theirs.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs on a private redis-server, writes nothing into REDIS_URL, and leaves nothing behind', async () => {
    const { stdout } = await run(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), 'demo'], {
      env: { PATH: process.env.PATH!, REDIS_URL: theirs.url, LOG_LEVEL: 'warn', TMPDIR: tmp },
      timeout: 120_000,
    });
    expect(stdout).toContain('a private redis-server');
    expect(stdout).toMatch(/Recall: 12\/12 probes/);
    const redisLine = stdout.split('\n').find((l) => l.startsWith('Redis'))!;
    expect(redisLine).not.toContain(theirs.url);
    expect(redisLine).toContain(`started here; data in ${join(tmp, 'agent-memory-demo-')}`);
    expect(redisLine).toMatch(/\(not persisted\)$/);
    const client = new Redis(theirs.url);
    try {
      expect(await client.dbsize()).toBe(0);
    } finally {
      client.disconnect();
    }
    expect(readdirSync(tmp)).toEqual([]);
  }, 130_000);
});
