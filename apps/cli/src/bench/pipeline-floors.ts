import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import type { MemoryConfig } from '@app/memory/config/memory-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { createQueueConnection, createRedis } from '@app/memory/redis/create-redis';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { loadTurns } from '@app/memory/vector/load-turns';
import type { SearchMode } from '@app/memory/vector/vector-index';

/**
 * The floors the pipeline is measured against, on the same machine and Redis in the same run: what the endpoint's
 * parts cost with nothing of the service around them. Each returns the latencies (ms) of `count` sequential calls.
 */

/**
 * A bare BullMQ round trip as the service makes one: add a job, a worker in this process takes it and publishes its
 * answer on a channel the caller subscribed to (the API's reply channel, see JobWaiter), nothing else.
 */
export async function bullmqRoundTrips(config: MemoryConfig, count: number): Promise<number[]> {
  const endpoint = redisEndpoint(config);
  // BullMQ leaves connections it was given open: they are closed here.
  const connections = [0, 1, 2, 3].map(() => createQueueConnection(endpoint, false));
  const [queueConnection, workerConnection, publisher, subscriber] = connections;
  const prefix = `${config.KEY_PREFIX}-floor`;
  const channel = `${prefix}:replies`;
  const queue = new Queue('floor', { connection: queueConnection, prefix });
  const worker = new Worker('floor', async (job) => void (await publisher.publish(channel, job.id!)), { connection: workerConnection, prefix, concurrency: 8 });
  const waits = new Map<string, () => void>();
  subscriber.on('message', (_: string, id: string) => waits.get(id)?.());
  try {
    await Promise.all([subscriber.subscribe(channel), worker.waitUntilReady()]);
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `f${i}`;
      const t = performance.now();
      const replied = new Promise<void>((resolve) => waits.set(id, resolve));
      await queue.add('floor', { i }, { jobId: id, removeOnComplete: true });
      await replied;
      waits.delete(id);
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connections.forEach((c) => c.disconnect());
  }
}

/** A bare Node HTTP round trip over loopback with fetch (the client the benchmark uses), a small JSON answer. */
export async function httpRoundTrips(count: number): Promise<number[]> {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"memories":[]}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await (await fetch(url)).text();
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    server.close();
  }
}

export interface DirectQuery {
  session: string;
  text: string;
}

/**
 * The index queried directly in this process, on the same Redis and backend as the retriever: the query embedded
 * beforehand, then VectorIndex.search and loading the hits' turns, nothing else. `ready` is the seconds
 * the index took to be ready (an in-process backend builds from Redis, or loads its snapshot).
 */
export async function directIndexQueries(config: MemoryConfig, queries: DirectQuery[], mode: SearchMode): Promise<{ backend: string; readyS: number; ms: number[] }> {
  const redis = createRedis(redisEndpoint(config));
  const store = new MemoryStore(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS));
  const embedder = createEmbeddingProvider(config);
  const quiet = { log: () => undefined, warn: (line: string) => process.stderr.write(`[direct index] ${line}\n`) };
  const t0 = performance.now();
  const index = await createVectorIndex({ config, redis, store, logger: quiet });
  const readyS = (performance.now() - t0) / 1000;
  try {
    const vectors = mode === 'text' ? [] : await embedder.embed(queries.map((q) => q.text));
    const ms: number[] = [];
    for (const [i, q] of queries.entries()) {
      const t = performance.now();
      await loadTurns(store, await index.search({ tenant: config.DEFAULT_TENANT, sessions: [q.session], k: 10, mode, vector: vectors[i], text: q.text }));
      ms.push(performance.now() - t);
    }
    return { backend: index.backend, readyS, ms };
  } finally {
    await index.close();
    redis.disconnect();
  }
}
