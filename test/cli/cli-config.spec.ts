import { ConfigError } from '@app/memory/errors/config.error';
import { validateEnvironment } from '@app/memory/config/load-config';
import { CliEnvironment, DEFAULT_API_URL, resolveApi, resolveRedisUrl, unreachableHint } from '../../apps/cli/src/config/cli-config';
import { describeStack } from '../../apps/cli/src/commands/stack.command';
import type { StackFile } from '../../apps/cli/src/stack/stack-file';

const env = (vars: Record<string, string>) => validateEnvironment(CliEnvironment, vars, new Set(Object.keys(vars)));
const stack: StackFile = { pid: 4242, apiUrl: 'http://127.0.0.1:3000', apiKey: 'local-key', redisUrl: 'redis://127.0.0.1:6380', workerMetrics: {} };

describe('the CLI finds the API', () => {
  it('takes --url and --api-key first, then AGENT_MEMORY_URL / AGENT_MEMORY_API_KEY, then the running stack', () => {
    const vars = env({ AGENT_MEMORY_URL: 'http://127.0.0.1:4000', AGENT_MEMORY_API_KEY: 'env-key' });
    expect(resolveApi({ url: 'http://127.0.0.1:5000', apiKey: 'flag-key' }, vars, stack)).toEqual({ url: 'http://127.0.0.1:5000', apiKey: 'flag-key' });
    expect(resolveApi({}, vars, stack)).toEqual({ url: 'http://127.0.0.1:4000', apiKey: 'env-key' });
    expect(resolveApi({}, env({}), stack)).toEqual({ url: stack.apiUrl, apiKey: 'local-key', stack });
    expect(resolveApi({}, env({}), null)).toEqual({ url: DEFAULT_API_URL });
  });

  it("sends the stack's key only to the stack", () => {
    expect(resolveApi({ url: 'http://127.0.0.1:3000/' }, env({}), stack).apiKey).toBe('local-key');
    expect(resolveApi({ url: 'http://127.0.0.1:3999' }, env({}), stack).apiKey).toBeUndefined();
  });

  it('refuses a malformed AGENT_MEMORY_URL, naming it', () => {
    expect(() => env({ AGENT_MEMORY_URL: 'localhost:3000' })).toThrow(ConfigError);
    expect(() => env({ AGENT_MEMORY_URL: 'localhost:3000' })).toThrow(/AGENT_MEMORY_URL="localhost:3000"/);
  });

  it('says whether a stack is up when the API cannot be reached', () => {
    expect(unreachableHint('http://127.0.0.1:3000', null)).toMatch(/no local stack is running.*npm run stack/);
    expect(unreachableHint('http://127.0.0.1:3000', stack)).toMatch(/the local stack \(pid 4242\) is running, but its API does not answer/);
    expect(unreachableHint('http://127.0.0.1:3999', stack)).toMatch(/the local stack \(pid 4242\) is up, at http:\/\/127.0.0.1:3000/);
  });
});

describe('keys picks its Redis explicitly', () => {
  it('takes --redis-url, then REDIS_URL, then the running stack\'s Redis', () => {
    expect(resolveRedisUrl('redis://127.0.0.1:7000', env({ REDIS_URL: 'redis://127.0.0.1:7001' }), stack).url).toBe('redis://127.0.0.1:7000');
    expect(resolveRedisUrl(undefined, env({ REDIS_URL: 'redis://127.0.0.1:7001' }), stack)).toEqual({ url: 'redis://127.0.0.1:7001', source: 'REDIS_URL' });
    expect(resolveRedisUrl(undefined, env({}), stack)).toEqual({ url: stack.redisUrl, source: 'the running stack, pid 4242' });
  });

  it('never falls back to whatever answers on 6379', () => {
    expect(() => resolveRedisUrl(undefined, env({}), null)).toThrow(/--redis-url.*REDIS_URL.*npm run stack/);
  });
});

describe("the stack's summary", () => {
  it('lines up its columns, and says where the API key comes from', () => {
    const stack = {
      apiUrl: 'http://127.0.0.1:3000',
      apiKey: 'local-abc',
      apiKeyMadeUp: true,
      redisUrl: 'redis://127.0.0.1:6379',
      dataDir: '/repo/.data',
      persist: true,
      workerMetrics: { 'embedder-1': 'http://127.0.0.1:9101/metrics', 'retriever-12': 'http://127.0.0.1:9112/metrics' },
      stop: async () => undefined,
    };
    const lines = describeStack(stack).split('\n');
    expect(lines.map((l) => l.search(/(?<=^\S+(?: \S+)?\s{2,})\S/))).toEqual(Array(5).fill('retriever-12'.length + 2));
    expect(lines.find((l) => l.startsWith('Redis'))).toMatch(/redis:\/\/127.0.0.1:6379 +started here; data in \/repo\/.data \(AOF on\)$/);
    // The notes column starts at the same place on every row that has one.
    const notes = lines.filter((l) => /OpenAPI|started here|made up/.test(l)).map((l) => l.search(/OpenAPI|started here|made up/));
    expect(notes).toHaveLength(3);
    expect(new Set(notes).size).toBe(1);
    // A key the stack made up is not passed off as one of the configured ones.
    expect(lines.find((l) => l.startsWith('API key'))).toMatch(/local-abc +made up for this run: API_KEYS is not set/);
    expect(describeStack({ ...stack, apiKeyMadeUp: false }).split('\n').find((l) => l.startsWith('API key'))).toMatch(/the first of API_KEYS$/);
  });
});
