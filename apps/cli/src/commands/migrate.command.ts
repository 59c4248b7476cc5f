import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { createRedis, KeySchema, QUEUES, STORE_LAYOUT } from '@app/memory';
import { processConfig } from '@app/memory/config/load-config';
import { queuePrefix } from '@app/memory/queues/queue-prefix';
import { describeEndpoint, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { migrateStore } from '@app/memory/store/migrate-store';
import type { Command } from 'commander';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("move a store written by an older build to this build's key layout (single Redis; stop the API first)")
    .option('--redis-url <url>', 'the Redis to migrate (default: REDIS_URL)')
    .action(async (f: { redisUrl?: string }) => {
      const config = processConfig();
      const endpoint = redisEndpoint(config, f.redisUrl);
      // Layout 1 could not run on a cluster (its scripts spanned slots), so there is nothing to migrate on one.
      if (endpoint.cluster) {
        throw new Error('migrate moves a single Redis (--redis-url): migrate it there, then copy it into the cluster (docs/cluster.md)');
      }
      const url = describeEndpoint(endpoint);
      const redis = createRedis(endpoint) as Redis;
      const embed = new Queue(QUEUES.embed, { connection: redis, prefix: queuePrefix({ ...config, REDIS_CLUSTER_NODES: undefined }, QUEUES.embed) });
      try {
        const counts = await embed.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        const queued = Object.values(counts).reduce((a, b) => a + b, 0);
        if (queued > 0) throw new Error(`the embed queue at ${url} still holds ${queued} jobs: stop the API, let the embedders finish, then migrate`);
        const r = await migrateStore(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS), config.FORGET_TTL_SECONDS);
        console.log(
          r.from === STORE_LAYOUT
            ? `the store at ${url} already has layout ${STORE_LAYOUT}`
            : `migrated ${url} from layout ${r.from} to ${STORE_LAYOUT}: ${r.sessions} sessions, ${r.turns} turns, ${r.forgotten} forgotten sessions`,
        );
      } finally {
        await embed.close();
        redis.disconnect();
      }
    });
}
