import { Queue } from 'bullmq';
import { createRedis, KeySchema, QUEUES, STORE_LAYOUT } from '@app/memory';
import { processConfig } from '@app/memory/config/load-config';
import { migrateStore } from '@app/memory/store/migrate-store';
import type { Command } from 'commander';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("move a store written by an older build to this build's key layout (single Redis; stop the API first)")
    .option('--redis-url <url>', 'the Redis to migrate (default: REDIS_URL)')
    .action(async (f: { redisUrl?: string }) => {
      const config = processConfig();
      const url = f.redisUrl ?? config.REDIS_URL;
      const redis = createRedis(url);
      const embed = new Queue(QUEUES.embed, { connection: redis, prefix: `${config.KEY_PREFIX}-bull` });
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
