import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

const run = promisify(execFile);
const demoDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('agent-memory-demo-'));

/** `npm run demo` as a new user runs it, next to a Redis of their own that it must not touch. */
describe('demo', () => {
  const theirs = new RedisServer();
  beforeAll(() => theirs.start());
  afterAll(() => theirs.stop());

  it('runs on a private redis-server, writes nothing into REDIS_URL, and leaves nothing behind', async () => {
    const before = new Set(demoDirs());
    const { stdout } = await run(process.execPath, [join(repoRoot(), 'dist/apps/cli/src/main.js'), 'demo'], {
      env: { PATH: process.env.PATH!, REDIS_URL: theirs.url, LOG_LEVEL: 'warn' },
      timeout: 120_000,
    });
    expect(stdout).toContain('a private redis-server');
    expect(stdout).toMatch(/Recall: 12\/12 probes/);
    const redisLine = stdout.split('\n').find((l) => l.startsWith('Redis'))!;
    expect(redisLine).not.toContain(theirs.url);
    expect(redisLine).toMatch(/started here; data in .*agent-memory-demo-.* \(not persisted\)/);
    const client = new Redis(theirs.url);
    try {
      expect(await client.dbsize()).toBe(0);
    } finally {
      client.disconnect();
    }
    expect(demoDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 130_000);
});
