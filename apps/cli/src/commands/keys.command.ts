import { ApiKeyStore, KEY_SCOPES, type KeyScope } from '@app/memory';
import type { Command } from 'commander';
import { REDIS_URL_HELP, withRedis } from './with-redis';

/** Runs one action against the ApiKeyStore of an explicitly chosen Redis (see withRedis). */
const withStore = <T>(redisUrl: string | undefined, run: (store: ApiKeyStore) => Promise<T>): Promise<T> =>
  withRedis(redisUrl, (redis, keys, config) => run(new ApiKeyStore(config, redis, keys)));

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
