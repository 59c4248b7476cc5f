import { loadConfig } from '@app/memory/config/load-config';
import { queuePrefix } from '@app/memory/queues/queue-prefix';
import { describeEndpoint, redisEndpoint } from '@app/memory/redis/redis-endpoint';

describe('Redis endpoint (REDIS_URL or REDIS_CLUSTER_NODES)', () => {
  it('is the single Redis of REDIS_URL by default', () => {
    expect(redisEndpoint(loadConfig({}))).toEqual({ cluster: false, url: 'redis://127.0.0.1:6379' });
    expect(redisEndpoint(loadConfig({ REDIS_URL: 'redis://cache:6380' }))).toEqual({ cluster: false, url: 'redis://cache:6380' });
  });

  it('is a cluster when REDIS_CLUSTER_NODES names seed nodes', () => {
    const e = redisEndpoint(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001,[::1]:7002' }));
    expect(e).toEqual({ cluster: true, nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b', port: 7001 }, { host: '::1', port: 7002 }], auth: {} });
    expect(describeEndpoint(e)).toBe('cluster 10.0.0.1:7000,redis-b:7001,::1:7002');
  });

  it("takes the cluster's credentials and TLS from the first node's URL, and never prints them", () => {
    const e = redisEndpoint(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://app:s%3Acret@a:7000,b:7001' }));
    expect(e).toMatchObject({ cluster: true, auth: { username: 'app', password: 's:cret', tls: {} } });
    expect(describeEndpoint(e)).not.toMatch(/cret/);
    expect(describeEndpoint(redisEndpoint(loadConfig({ REDIS_URL: 'redis://:pw@h:1' })))).toBe('redis://h:1');
  });

  it('names one server when a URL is given (a CLI --redis-url), whatever REDIS_CLUSTER_NODES says', () => {
    expect(redisEndpoint(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000' }), 'redis://b:6379')).toEqual({ cluster: false, url: 'redis://b:6379' });
  });

  it('refuses malformed seed nodes, naming the variable', () => {
    for (const bad of ['a', 'a:', ':7000', 'a:7000,', 'http://a:7000', 'a:7000 b:7001']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(/REDIS_CLUSTER_NODES=/);
    }
  });

  it('hash-tags BullMQ prefixes on a cluster, one per queue, and keeps the single-node prefix unchanged', () => {
    expect(queuePrefix(loadConfig({}), 'embed')).toBe('mem-bull');
    expect(queuePrefix(loadConfig({}), 'retrieve')).toBe('mem-bull');
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', KEY_PREFIX: 'am' });
    expect([queuePrefix(cluster, 'embed'), queuePrefix(cluster, 'retrieve')]).toEqual(['{am-bull:embed}', '{am-bull:retrieve}']);
  });
});
