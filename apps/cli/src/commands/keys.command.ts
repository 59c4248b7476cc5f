import { ApiKeyStore, createRedis, KEY_SCOPES, type KeyScope, KeySchema } from '@app/memory';
import { processConfig } from '@app/memory/config/load-config';
import { describeEndpoint, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import type { Command } from 'commander';
import { resolveRedisUrl } from '../config/cli-config';

/**
 * Runs one action against the ApiKeyStore of an explicitly chosen Redis (never whatever answers on 6379): the cluster
 * of REDIS_CLUSTER_NODES, or a single Redis (--redis-url, REDIS_URL, the running stack's); says on stderr which one
 * it was, then closes the connection.
 */
async function withStore<T>(redisUrl: string | undefined, run: (store: ApiKeyStore) => Promise<T>): Promise<T> {
  const config = processConfig();
  const target = !redisUrl && config.REDIS_CLUSTER_NODES ? { url: undefined, source: 'REDIS_CLUSTER_NODES' } : resolveRedisUrl(redisUrl);
  const endpoint = redisEndpoint(config, target.url);
  console.error(`Redis ${describeEndpoint(endpoint)} (from ${target.source})`);
  const redis = createRedis(endpoint);
  try {
    return await run(new ApiKeyStore(config, redis, new KeySchema(config.KEY_PREFIX)));
  } finally {
    redis.disconnect();
  }
}

const REDIS_URL_HELP = 'the Redis of the API (default: the cluster of REDIS_CLUSTER_NODES, or REDIS_URL if set, else the running `npm run stack`\'s; otherwise it is required)';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('issue and revoke API keys stored (as SHA-256 digests) in Redis');
  keys
    .command('issue')
    .description('issue a new key for a tenant, or for one user of it, and print it (it is shown only once)')
    .requiredOption('--tenant <id>', 'the tenant the key acts for')
    .option('--user <id>', 'bind the key to this user: it reaches only their sessions, memories and history, and writes only as them')
    .option('--scopes <list>', `comma-separated, of ${KEY_SCOPES.join(', ')} (admin: key management; not for a user key)`, 'read,write')
    .option('--redis-url <url>', REDIS_URL_HELP)
    .action(async (f: { tenant: string; user?: string; scopes: string; redisUrl?: string }) => {
      const grant = { tenant: f.tenant, ...(f.user ? { user: f.user } : {}), scopes: f.scopes.split(',').map((s) => s.trim()) as KeyScope[] };
      console.log((await withStore(f.redisUrl, (store) => store.issue(grant))).key);
    });
  keys
    .command('revoke')
    .description('revoke a key issued into Redis')
    .argument('<key>', 'the key to revoke, or its id (as `keys list` shows it)')
    .option('--redis-url <url>', REDIS_URL_HELP)
    .action(async (key: string, f: { redisUrl?: string }) => {
      const revoked = await withStore(f.redisUrl, (store) => store.revoke(key));
      console.log(revoked ? 'revoked' : 'no such key in Redis');
      if (!revoked) process.exitCode = 1;
    });
  keys
    .command('list')
    .description('list the keys issued into Redis: id (the digest), tenant, user, scopes; never the keys themselves')
    .option('--tenant <id>', "only this tenant's keys")
    .option('--redis-url <url>', REDIS_URL_HELP)
    .action(async (f: { tenant?: string; redisUrl?: string }) => {
      const issued = await withStore(f.redisUrl, (store) => store.list());
      for (const k of issued.filter((k) => f.tenant === undefined || k.tenant === f.tenant)) {
        console.log([k.id, k.tenant, k.user ?? '-', k.scopes.join(',')].join('\t'));
      }
    });
}
