import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { createRedis } from '@app/memory/redis/create-redis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { MemoryStore } from '@app/memory/store/memory-store';
import { benchSession } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startLocalRedis } from '../apps/cli/src/stack/local-redis';
import type { StackHandle } from '../apps/cli/src/stack/stack';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * The cost of changing the embedder of a live stack (API, one embedder, one retriever on the hnsw backend): N stored
 * turns re-embedded from the local embedder at --from-dim into --to, as `cli reindex` does it. Prints the turns
 * re-embedded per second, and Redis's memory and the retriever's RSS with one generation, with two (after the
 * switch, during the grace period) and with one again (the old one dropped).
 */
const opts = new Command('bench-reindex')
  .option('--n <n>', 'stored turns', '20000')
  .option('--sessions <s>', 'sessions they are spread over', '200')
  .option('--from-dim <d>', "the local embedder's dimension the turns are stored at", '384')
  .option('--to <spec>', 'the new generation', 'local/local/1024')
  .option('--rate <r>', 'REINDEX_RATE (turns/s): high, to measure the embedder rather than the bound', '100000')
  .option('--batch <b>', 'REINDEX_BATCH', '256')
  .option('--json <file>', 'write the figures as JSON')
  .parse()
  .opts<{ n: string; sessions: string; fromDim: string; to: string; rate: string; batch: string; json?: string }>();

const MB = 1024 * 1024;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const n = Number(opts.n);
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-reindex-'));
  const url = `redis://127.0.0.1:${await freePort()}`;
  const server = await startLocalRedis({ url, dir: join(dir, 'redis'), persist: false, log: () => undefined });
  const env = {
    REDIS_URL: url, AUTH_MODE: 'none', LOG_LEVEL: 'warn', VECTOR_BACKEND: 'hnsw', EMBEDDING_PROVIDER: 'local', EMBEDDING_DIM: opts.fromDim,
    REINDEX_RATE: opts.rate, REINDEX_BATCH: opts.batch, REINDEX_GRACE_MS: '15000', GENERATION_POLL_MS: '500',
  };
  const config = loadConfig(env);
  const redis = createRedis(redisEndpoint(config));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let stack: StackHandle | undefined;
  try {
    // Stored straight through the store (as the embedder would have), in the first generation's field.
    const store = new MemoryStore(redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS));
    const embedder = createEmbeddingProvider(config);
    const texts = syntheticTexts(n, 7);
    for (let i = 0; i < n; i += 500) {
      const batch = texts.slice(i, i + 500);
      const vectors = await embedder.embed(batch);
      await store.ingest(batch.map((content, j) => ({
        tenant: config.DEFAULT_TENANT, session: benchSession(i + j, Number(opts.sessions)), turnId: `t${i + j}`, role: 'user' as const,
        content, timestamp: Date.now(), tokenCount: 10, embedding: vectors[j],
      })));
    }
    log(`stored ${n} turns at ${opts.fromDim}-d`);
    stack = await startStackStoppedBySignal({ config, redisUrl: url, log: () => undefined });
    const api = stack.apiUrl;
    const retrieverMetrics = Object.entries(stack.workerMetrics).find(([name]) => name.startsWith('retriever'))![1];
    const status = async () => (await (await fetch(`${api}/v1/admin/reindex`)).json()) as { state: string; reembedded: number; dropping?: unknown; rate: number };
    const memory = async () => {
      const info = await redis.info('memory');
      const rss = /^process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(await (await fetch(retrieverMetrics)).text());
      return { redisMB: round(Number(/used_memory:(\d+)/.exec(info)![1]) / MB), retrieverRssMB: round(Number(rss![1]) / MB) };
    };
    const until = async (check: () => Promise<boolean>) => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 250));
    };

    const one = await memory();
    const started = performance.now();
    const res = await fetch(`${api}/v1/admin/reindex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: opts.to }) });
    if (res.status !== 202) throw new Error(`POST /v1/admin/reindex: ${res.status} ${await res.text()}`);
    const loads: number[] = [];
    let last = await status();
    await until(async () => {
      loads.push(loadavg()[0]);
      last = await status();
      return last.state !== 'building';
    });
    const seconds = (performance.now() - started) / 1000;
    // The retriever has opened the new core beside the old one; give it a moment to settle its last adds.
    await new Promise((r) => setTimeout(r, 2000));
    const two = await memory();
    await until(async () => {
      const s = await status();
      return s.state === 'idle' && s.dropping === undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const after = await memory();

    const figures = {
      n,
      from: `local/local/${opts.fromDim}`,
      to: opts.to,
      reembedded: last.reembedded,
      seconds: round(seconds, 2),
      turnsPerSecond: round(last.reembedded / seconds),
      memory: { oneGeneration: one, twoGenerations: two, afterDrop: after },
      extra: { redisMB: round(two.redisMB - one.redisMB), retrieverRssMB: round(two.retrieverRssMB - one.retrieverRssMB) },
      load: { atEnd: loadavg().map((l) => round(l, 2)), meanDuring: round(loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length), 2) },
      machine: machine(),
    };
    console.log(`re-indexed ${figures.reembedded} turns ${figures.from} -> ${figures.to} in ${figures.seconds} s: ${figures.turnsPerSecond} turns/s`);
    console.log(`memory        Redis MB   retriever RSS MB`);
    for (const [name, m] of Object.entries(figures.memory)) console.log(`${name.padEnd(14)}${String(m.redisMB).padStart(8)}   ${String(m.retrieverRssMB).padStart(8)}`);
    console.log(`load average during: ${figures.load.meanDuring}, at the end: ${figures.load.atEnd.join(' ')} (${describeMachine(figures.machine)})`);
    console.log(JSON.stringify(figures));
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await stack?.stop();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
