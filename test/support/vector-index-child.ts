import 'reflect-metadata';
import Redis from 'ioredis';
import { createInterface } from 'node:readline';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { VectorQuery } from '@app/memory/vector/vector-index';
import { testConfig } from './vector-fixture';

/**
 * A retriever-like process holding its own index instance (see vector-child-process.ts).
 * Requests: {op:'search', query} -> {keys, similarities}; {op:'size'}; {op:'stall', ms} blocks the event loop;
 * {op:'stats'} -> {rebuilds, scans}: rebuilds after start-up, and searches answered from Redis meanwhile.
 * Log lines go to stderr, each after its epoch ms.
 */
async function main(): Promise<void> {
  const env = process.env;
  const config = testConfig({
    KEY_PREFIX: env.KEY_PREFIX!, EMBEDDING_DIM: Number(env.EMBEDDING_DIM), VECTOR_BACKEND: 'hnsw', JOB_TIMEOUT_MS: 5000,
    CHANGELOG_PARTITIONS: Number(env.CHANGELOG_PARTITIONS ?? 4),
    ...(env.REBUILD_SCAN_MAX_VECTORS ? { REBUILD_SCAN_MAX_VECTORS: Number(env.REBUILD_SCAN_MAX_VECTORS) } : {}),
  });
  const redis = new Redis(env.REDIS_URL!, { commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS ? Number(env.REDIS_COMMAND_TIMEOUT_MS) : undefined });
  const store = new MemoryStore(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS));
  const stats = { rebuilds: 0, scans: 0 };
  const index = await createVectorIndex({
    config, redis, store,
    logger: { log: (m) => console.error(`${Date.now()} ${m}`), warn: (m) => console.error(`${Date.now()} ${m}`) },
    onRebuild: () => stats.rebuilds++,
    onRebuildScan: () => stats.scans++,
  });
  const send = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const msg = JSON.parse(line) as { id: number; op: string; ms?: number; query?: VectorQuery & { vector?: number[] } };
    try {
      if (msg.op === 'search') {
        const { vector } = msg.query!;
        const hits = await index.search({ ...msg.query!, vector: vector && Float32Array.from(vector) });
        send({ id: msg.id, keys: hits.map((h) => h.key) });
      } else if (msg.op === 'stats') {
        send({ id: msg.id, ...stats });
      } else if (msg.op === 'size') {
        send({ id: msg.id, size: await index.size() });
      } else if (msg.op === 'stall') {
        const until = Date.now() + msg.ms!;
        while (Date.now() < until); // keeps the follower from reading, like a replica stuck in GC or CPU-starved
        send({ id: msg.id });
      }
    } catch (err) {
      send({ id: msg.id, error: `${(err as Error).name}: ${(err as Error).message}` });
    }
  });
  lines.on('close', async () => {
    await index.close();
    redis.disconnect();
  });
  send({ ready: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
