import { Queue } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { defaultJobOptions } from '@app/memory/queues/job-options';
import { type EmbedTurnJob, JOBS, QUEUES } from '@app/memory/queues/job-contracts';
import { createRedis, type RedisClient } from '@app/memory/redis/create-redis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { MemoryStore } from '@app/memory/store/memory-store';
import type { TurnWrite } from '@app/memory/store/turn';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { ExactIndex } from '@app/memory/vector/in-process/exact-index';
import { HnswIndex } from '@app/memory/vector/in-process/hnsw-index';
import { VectorMirror } from '@app/memory/vector/in-process/vector-mirror';
import type { SearchCore } from '@app/memory/vector/in-process/search-core';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startLocalRedis } from '../apps/cli/src/stack/local-redis';
import { repoRoot } from '../apps/cli/src/stack/stack';

/**
 * The capacity model's measurements: bytes per stored turn in Redis (turn hash, per-session and per-tenant
 * bookkeeping, change log, a queued job), bytes per vector in a retriever (the in-process mirror, and with the HNSW
 * graph), for each dimension; with --redis-stack-url, the RediSearch index's own bytes per turn from FT.INFO.
 * Run with --expose-gc (npm run bench:capacity does) so the heap is collected before each reading.
 */
const program = new Command('bench-capacity')
  .option('--turns <n>', 'turns stored in Redis per dimension', '20000')
  .option('--vectors <n>', 'vectors indexed in-process per dimension', '20000')
  .option('--dims <list>', 'dimensions', '384,1536')
  .option('--redis-stack-url <url>', 'a disposable Redis Stack / Redis 8 (it is flushed), to measure the RediSearch index')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/capacity.{json,md}')
  .option('--retriever-child <kind>', 'internal: measure one in-process structure (mirror | hnsw) in this fresh process')
  .parse();

const o = program.opts<{ turns: string; vectors: string; dims: string; redisStackUrl?: string; json?: string; writeDocs?: boolean; retrieverChild?: 'mirror' | 'hnsw' }>();
const TENANT = 'cap';
const PER_SESSION = 50;
const log = (m: string) => process.stderr.write(`${m}\n`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const perItem = (bytes: number, n: number) => Math.round(bytes / n);

const usedMemory = async (redis: RedisClient) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const memoryUsage = async (redis: RedisClient, key: string) => Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', 0)) ?? 0);
const sumUsage = async (redis: RedisClient, keys: string[]) => (await Promise.all(keys.map((k) => memoryUsage(redis, k)))).reduce((a, b) => a + b, 0);

/** Turns of about 50 words (three synthetic sentences), 50 per session, embedded offline. */
function turns(n: number, dim: number): (Omit<TurnWrite, 'seq'> & { embedding: Float32Array })[] {
  const embedder = new LocalEmbedder(dim);
  const texts = syntheticTexts(n * 3, 11, (i) => Math.floor(i / (PER_SESSION * 3)));
  return Array.from({ length: n }, (_, i) => {
    const content = texts.slice(i * 3, i * 3 + 3).join('. ');
    return {
      tenant: TENANT, session: `s${Math.floor(i / PER_SESSION)}`, turnId: `msg-${i}`, role: i % 2 ? 'assistant' : 'user',
      content, timestamp: 1_700_000_000_000 + i * 1000, tokenCount: content.split(' ').length, embedding: embedder.embedOne(content),
    };
  });
}

async function redisBytes(redis: RedisClient, dim: number, n: number) {
  await redis.flushall();
  const keys = new KeySchema();
  const store = new MemoryStore(redis, keys);
  const data = turns(n, dim);
  const before = await usedMemory(redis);
  for (let i = 0; i < n; i += 1000) await store.ingest(data.slice(i, i + 1000));
  const total = (await usedMemory(redis)) - before;
  const sample = data.filter((_, i) => i % 97 === 0);
  const sessions = [...new Set(data.map((t) => t.session))];
  const sessionKeys = (s: string) => [keys.seq(TENANT, s), keys.history(TENANT, s), keys.turnIds(TENANT, s), keys.meta(TENANT, s)];
  const parts = {
    turnHash: perItem(await sumUsage(redis, sample.map((_, j) => keys.turn(TENANT, sample[j].session, (data.indexOf(sample[j]) % PER_SESSION) + 1))), sample.length),
    sessionBookkeeping: perItem(await sumUsage(redis, sessions.flatMap(sessionKeys)), n),
    tenantBookkeeping: perItem(await sumUsage(redis, [keys.sessions(TENANT), keys.gens(TENANT), keys.queued(TENANT)]), n),
    changeLog: perItem(await sumUsage(redis, keys.allPartitions.flatMap((p) => [keys.changelog(p), keys.changelogTenants(p)])), n),
  };
  // A queued job holds the turn until the embedder has stored it: the queue's share while a backlog lasts.
  const queue = new Queue<EmbedTurnJob>(QUEUES.embed, { connection: redis, prefix: 'cap-bull', defaultJobOptions: defaultJobOptions(5) });
  const jobs = data.slice(0, 2000);
  const beforeJobs = await usedMemory(redis);
  await queue.addBulk(jobs.map(({ embedding: _vector, tokenCount: _tokens, ...t }, i) => ({ name: JOBS.embedTurn, data: { ...t, seq: i + 1 }, opts: { jobId: `cap.s.${i}` } })));
  const queuedJob = perItem((await usedMemory(redis)) - beforeJobs, jobs.length);
  await queue.obliterate({ force: true });
  await queue.close();
  const contentBytes = perItem(data.reduce((sum, t) => sum + Buffer.byteLength(t.content), 0), n);
  return { perTurn: perItem(total, n), ...parts, queuedJob, contentBytes, vectorBytes: dim * 4 };
}

/** The RediSearch index's own memory per turn, from FT.INFO, over the turns redisBytes left in the Redis Stack. */
async function redisearchBytes(url: string, dim: number, n: number) {
  const redis = createRedis(redisEndpoint(loadConfig({}), url));
  try {
    await redisBytes(redis, dim, n);
    const config = loadConfig({ VECTOR_BACKEND: 'redisearch', EMBEDDING_DIM: String(dim), JOB_TIMEOUT_MS: '600000' });
    const store = new MemoryStore(redis, new KeySchema());
    const index = await createVectorIndex({ config, redis, store, logger: { log: () => undefined, warn: log } });
    await index.close();
    const flat = (await redis.call('FT.INFO', store.keys.searchIndex)) as unknown[];
    const info: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = String(flat[i + 1]);
    const mb = (field: string) => Number(info[field] ?? 0) * 2 ** 20;
    return {
      perTurn: perItem(mb('total_index_memory_sz_mb') || ['inverted_sz_mb', 'vector_index_sz_mb', 'doc_table_size_mb', 'offset_vectors_sz_mb', 'sortable_values_size_mb', 'key_table_size_mb'].reduce((s, f) => s + mb(f), 0), n),
      vectorIndex: perItem(mb('vector_index_sz_mb'), n),
      numDocs: Number(info.num_docs),
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * An estimate from the documented structures, for when no Redis Stack is at hand: the HNSW index keeps its own FLOAT32
 * copy of each vector (4·dim), 2M neighbour ids of 4 bytes at level 0, M more on the 1/(M-1) of levels above, plus
 * per-element metadata; the document table, the TAG, NUMERIC and TEXT inverted indexes add a few hundred bytes.
 */
const redisearchEstimate = (dim: number, m = 16) => Math.round(dim * 4 + (2 * m * 4 + 4) + (m * 4 + 4) / (m - 1) + 48 + 300);

/**
 * One in-process structure, built as a retriever builds it (the graph grows its capacity as vectors arrive), in a
 * fresh process: its RSS growth, heap and native (hnswlib) memory alike, with the input already allocated.
 */
async function measureRetrieverChild(kind: 'mirror' | 'hnsw', dim: number, n: number) {
  const vectors = turns(n, dim).map((t, i) => ({ ...t, seq: (i % PER_SESSION) + 1, key: `mem:{${TENANT}:${t.session}}:turn:${(i % PER_SESSION) + 1}` }));
  gc();
  const before = process.memoryUsage().rss;
  const core: SearchCore = kind === 'mirror'
    ? new ExactIndex(new VectorMirror(dim))
    : new HnswIndex({ dim, m: 16, efConstruction: 200, efRuntime: 512, exactThreshold: 4096, logger: console });
  const t = performance.now();
  for (const v of vectors) core.add(v);
  await core.settle();
  const seconds = (performance.now() - t) / 1000;
  gc();
  if (core.size !== n) throw new Error(`indexed ${core.size} of ${n}`);
  const rss = process.memoryUsage().rss;
  await core.close();
  return { perVector: perItem(rss - before, n), insertsPerSecond: Math.round(n / seconds) };
}

function retrieverBytes(dim: number, n: number) {
  const child = (kind: string) => JSON.parse(execFileSync(process.execPath, [
    '--expose-gc', __filename, '--retriever-child', kind, '--dims', String(dim), '--vectors', String(n),
  ], { encoding: 'utf8' })) as Awaited<ReturnType<typeof measureRetrieverChild>>;
  return { mirror: child('mirror'), hnsw: child('hnsw') };
}

type Figures = Awaited<ReturnType<typeof measureDim>>;

async function measureDim(redis: RedisClient, dim: number) {
  log(`capacity: ${dim}-d, storing ${o.turns} turns`);
  const stored = await redisBytes(redis, dim, Number(o.turns));
  log(`capacity: ${dim}-d, indexing ${o.vectors} vectors in-process`);
  const retriever = retrieverBytes(dim, Number(o.vectors));
  const redisearch = o.redisStackUrl ? await redisearchBytes(o.redisStackUrl, dim, Number(o.turns)) : undefined;
  return { dim, redis: stored, redisearch: redisearch ?? { estimatedPerTurn: redisearchEstimate(dim) }, retriever };
}

const GIB = 2 ** 30;
/** Turns one node holds when `usable` bytes are given to this (the rest: fork, replication buffers, fragmentation). */
const holds = (usable: number, bytes: number) => Math.floor(usable / bytes);

function table(figures: Figures[]): string {
  const lines = ['| | ' + figures.map((f) => `${f.dim}-d`).join(' | ') + ' |', '|---|' + figures.map(() => '---:').join('|') + '|'];
  const row = (name: string, value: (f: Figures) => string | number) => lines.push(`| ${name} | ${figures.map((f) => String(value(f))).join(' | ')} |`);
  const rs = (f: Figures) => ('perTurn' in f.redisearch ? f.redisearch.perTurn : f.redisearch.estimatedPerTurn);
  row('Redis, bytes per stored turn (used_memory growth)', (f) => f.redis.perTurn.toLocaleString('en-US'));
  row('… turn hash (MEMORY USAGE)', (f) => f.redis.turnHash.toLocaleString('en-US'));
  row('… of which the vector', (f) => f.redis.vectorBytes.toLocaleString('en-US'));
  row('… session bookkeeping, per turn', (f) => f.redis.sessionBookkeeping);
  row('… tenant bookkeeping, per turn', (f) => f.redis.tenantBookkeeping);
  row('… change log, per turn (until trimmed)', (f) => f.redis.changeLog);
  row('content, bytes per turn (in the hash)', (f) => f.redis.contentBytes);
  row('a queued job, while it waits (transient)', (f) => f.redis.queuedJob.toLocaleString('en-US'));
  row(`RediSearch index, bytes per turn (${figures.some((f) => 'perTurn' in f.redisearch) ? 'FT.INFO' : 'estimate'})`, (f) => rs(f).toLocaleString('en-US'));
  row('retriever, bytes per vector: mirror (exact backend)', (f) => f.retriever.mirror.perVector.toLocaleString('en-US'));
  row('retriever, bytes per vector: mirror + HNSW graph', (f) => f.retriever.hnsw.perVector.toLocaleString('en-US'));
  row('turns per Redis node, 16 GiB for data, hnsw backend', (f) => holds(16 * GIB, f.redis.perTurn).toLocaleString('en-US'));
  row('turns per Redis node, 16 GiB for data, redisearch backend', (f) => holds(16 * GIB, f.redis.perTurn + rs(f)).toLocaleString('en-US'));
  row('turns per retriever, 16 GiB for vectors, hnsw backend', (f) => holds(16 * GIB, f.retriever.hnsw.perVector).toLocaleString('en-US'));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-capacity-'));
  const url = `redis://127.0.0.1:${await freePort()}`;
  const server = await startLocalRedis({ url, dir, persist: false, log: () => undefined });
  const redis = createRedis(redisEndpoint(loadConfig({}), url));
  try {
    const figures: Figures[] = [];
    for (const dim of o.dims.split(',').map(Number)) figures.push(await measureDim(redis, dim));
    const report = { machine: machine(), date: new Date().toISOString().slice(0, 10), turns: Number(o.turns), vectors: Number(o.vectors), figures };
    const md = [
      `Measured by \`npm run bench:capacity${o.redisStackUrl ? ' -- --redis-stack-url …' : ''}\` on ${report.date}: ${describeMachine(report.machine)}.`,
      `${report.turns.toLocaleString('en-US')} turns of about 50 words, 50 per session, in one tenant; ${report.vectors.toLocaleString('en-US')} vectors in-process (HNSW M 16, efConstruction 200).`,
      '',
      table(figures),
    ].join('\n');
    console.log(md);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (o.json) {
      mkdirSync(dirname(o.json), { recursive: true });
      writeFileSync(o.json, json);
    }
    if (o.writeDocs) {
      const docs = join(repoRoot(), 'docs', 'benchmarks');
      writeFileSync(join(docs, 'capacity.json'), json);
      writeFileSync(join(docs, 'capacity.md'), `# Capacity measurements\n\n${md}\n\nThe model built on these figures: [docs/capacity.md](../capacity.md).\n`);
      log(`wrote ${docs}/capacity.{json,md}`);
    }
  } finally {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const run = o.retrieverChild
  ? async () => console.log(JSON.stringify(await measureRetrieverChild(o.retrieverChild!, Number(o.dims), Number(o.vectors))))
  : main;
run().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
