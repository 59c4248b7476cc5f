import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { createRedis } from '@app/memory/redis/create-redis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { MemoryStore } from '@app/memory/store/memory-store';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import type { VectorIndex } from '@app/memory/vector/vector-index';
import { benchSession } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startLocalRedis } from '../apps/cli/src/stack/local-redis';

/**
 * A retriever's hnsw index restarting with N stored turns (the offline embedder's vectors) on a private redis-server:
 * time to ready rebuilding from Redis (no snapshot), the snapshot's save, time to ready loading it, and loading it
 * with writes to replay. The same code the retriever runs (createVectorIndex), in this process.
 */
const opts = new Command('bench-restart')
  .option('--n <n>', 'stored turns', '100000')
  .option('--sessions <s>', 'sessions they are spread over', '1000')
  .option('--replay <r>', 'turns written after the snapshot, replayed at the last start', '1000')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/restart.{json,md}')
  .parse()
  .opts<{ n: string; sessions: string; replay: string; json?: string; writeDocs?: boolean }>();

const n = Number(opts.n);
const sessions = Number(opts.sessions);
const seconds = (t: number) => Math.round((performance.now() - t) / 10) / 100;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-restart-'));
  const url = `redis://127.0.0.1:${await freePort()}`;
  const server = await startLocalRedis({ url, dir: join(dir, 'redis'), persist: false, log: () => undefined });
  const config = loadConfig({ REDIS_URL: url, VECTOR_BACKEND: 'hnsw', HNSW_SNAPSHOT_DIR: join(dir, 'snapshots') });
  const redis = createRedis(redisEndpoint(config));
  const store = new MemoryStore(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS));
  const embedder = createEmbeddingProvider(config);
  const loadAtStart = Math.round(loadavg()[0] * 100) / 100;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const texts = syntheticTexts(n + Number(opts.replay), 7);
    const write = async (from: number, to: number) => {
      for (let i = from; i < to; i += 500) {
        const batch = texts.slice(i, Math.min(i + 500, to));
        const vectors = await embedder.embed(batch);
        await store.ingest(batch.map((content, j) => ({
          tenant: config.DEFAULT_TENANT, session: benchSession(i + j, sessions), turnId: `t${i + j}`, role: 'user' as const,
          content, timestamp: Date.now(), tokenCount: 10, embedding: vectors[j],
        })));
      }
    };
    let t = performance.now();
    await write(0, n);
    log(`stored ${n} turns of ${config.EMBEDDING_DIM} dimensions in ${seconds(t)} s`);

    const start = async () => {
      const started = performance.now();
      const index = await createVectorIndex({ config, redis, store, logger: { log, warn: log } });
      return { index, readyS: seconds(started) };
    };
    const stop = async (index: VectorIndex) => {
      const stopping = performance.now();
      await index.close();
      return seconds(stopping);
    };
    const rebuild = await start();
    const size = await rebuild.index.size();
    const saveS = await stop(rebuild.index); // saves the snapshot
    const snapshotBytes = readdirSync(config.HNSW_SNAPSHOT_DIR!).reduce((sum, f) => sum + statSync(join(config.HNSW_SNAPSHOT_DIR!, f)).size, 0);
    const loaded = await start();
    if ((await loaded.index.size()) !== size) throw new Error(`the loaded index holds ${await loaded.index.size()} vectors, the rebuilt one ${size}`);
    await stop(loaded.index);
    t = performance.now();
    await write(n, n + Number(opts.replay));
    const replayed = await start();
    await stop(replayed.index);

    const result = {
      machine: machine(),
      loadAverageAtStart: loadAtStart,
      turns: n,
      dim: config.EMBEDDING_DIM,
      m: config.HNSW_M,
      efConstruction: config.HNSW_EF_CONSTRUCTION,
      rebuildReadyS: rebuild.readyS,
      snapshotSaveS: saveS,
      snapshotMiB: Math.round(snapshotBytes / 2 ** 20),
      snapshotReadyS: loaded.readyS,
      replayedTurns: Number(opts.replay),
      snapshotWithReplayReadyS: replayed.readyS,
    };
    const summary = [
      `Retriever restart with ${n.toLocaleString('en')} stored turns (${result.dim} dimensions, M ${result.m}, efConstruction ${result.efConstruction}):`,
      `  no snapshot (rebuild from Redis): ready in ${result.rebuildReadyS} s`,
      `  snapshot saved at stop in ${result.snapshotSaveS} s (${result.snapshotMiB} MiB)`,
      `  snapshot loaded: ready in ${result.snapshotReadyS} s`,
      `  snapshot loaded and ${result.replayedTurns.toLocaleString('en')} newer turns replayed: ready in ${result.snapshotWithReplayReadyS} s`,
      `Load average (1 min): ${loadAtStart} at the start, ${result.machine.loadAverage} at the end. Machine: ${describeMachine(result.machine)}`,
    ].join('\n');
    console.log(summary);
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    if (opts.writeDocs) {
      const md = ['# Retriever restart: time to ready', '', '```', summary, '```', '', `Reproduce: \`npm run bench:restart -- --n ${n} --write-docs\`.`].join('\n');
      log(`wrote ${writeBenchmarkDocs('restart', result, md).join(', ')}`);
    }
  } finally {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
