import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { scanKeys } from '@app/memory/redis/scan-keys';
import { TURN_FIELDS as F } from '@app/memory/store/turn';
import { vectorToBuffer } from '@app/memory/store/vector-bytes';
import { METRIC_NAMES } from '@app/memory/metrics';
import { metricValue, scrape } from './support/prometheus';
import { type ReliabilityStack, startReliabilityStack, TENANT } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

const stackUrl = process.env.REDIS_STACK_URL;
if (!stackUrl) console.warn('redisearch-indexing-failures: REDIS_STACK_URL is not set, so this suite was NOT run (skipped, not passed).');

/**
 * RediSearch acknowledges an HSET it cannot index (a vector of another size, say) and only counts it in FT.INFO's
 * hash_indexing_failures; the turn is stored and never found (issue 27, defect 3). The stack watches the count: a
 * gauge from the retriever, a warning when it rises, and /readyz failing after it rises.
 */
(stackUrl ? describe : describe.skip)('RediSearch hash_indexing_failures, watched by a running stack (REDIS_STACK_URL)', () => {
  const keys = new KeySchema(`relidx${process.pid}`);
  let rs: ReliabilityStack;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(stackUrl!);
    rs = await startReliabilityStack(stackUrl!, { KEY_PREFIX: keys.prefix, VECTOR_BACKEND: 'redisearch', REDISEARCH_WATCH_INTERVAL_MS: '200' });
  }, 60_000);
  afterAll(async () => {
    await rs?.stack.stop();
    // A shared server: this suite's keys and index go.
    for await (const batch of scanKeys(redis, `${keys.prefix}*`)) await redis.unlink(...batch);
    await redis.call('FT.DROPINDEX', keys.searchIndex);
    redis.disconnect();
  });

  const readiness = async () => {
    const res = await rs.call('GET', '/readyz');
    return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
  };

  it('reports it in a gauge, logs when it rises, and fails /readyz', async () => {
    expect(await readiness()).toEqual({ status: 200, checks: expect.objectContaining({ searchIndex: 'ok' }) });
    const retriever = Object.entries(rs.stack.workerMetrics).find(([name]) => name.startsWith('retriever'))![1];
    expect(metricValue(await scrape(retriever), METRIC_NAMES.indexingFailures)).toBe(0);

    // The stack runs at 64 dimensions; this hash carries 16.
    await redis.hset(keys.turn(TENANT, 'wrong-dim', 1), {
      [F.tenant]: TENANT, [F.session]: 'wrong-dim', [F.role]: 'user', [F.content]: 'never indexed', [F.timestamp]: Date.now(),
      [F.embedding]: vectorToBuffer(new Float32Array(16).fill(0.25)),
    });

    await waitUntil('the retriever reports the failure', async () => metricValue(await scrape(retriever), METRIC_NAMES.indexingFailures) === 1, 10_000, () => rs.logs.tail());
    expect(rs.logs.grep(/hash_indexing_failures rose from 0 to 1/)).toHaveLength(1);
    const ready = await readiness();
    expect(ready.status).toBe(503);
    expect(ready.checks.searchIndex).toMatch(/^failing: 1 hashes not indexed/);
  }, 30_000);
});
