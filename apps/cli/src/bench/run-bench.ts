import type { RedisClient } from '@app/memory/redis/create-redis';
import type { MemoryConfig } from '@app/memory/config/memory-config';
import { LocalEmbedder } from '@app/memory/embedding/local-embedder';
import { createRedis } from '@app/memory/redis/create-redis';
import { masters, type RedisEndpoint } from '@app/memory/redis/redis-endpoint';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import type { TurnWrite } from '@app/memory/store/turn';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { loadTurns } from '@app/memory/vector/load-turns';
import type { IndexLogger, RankedKey, VectorIndex } from '@app/memory/vector/vector-index';
import { summarize } from '../report/latency-report';
import { PrototypeLinearScan } from './prototype-linear-scan';
import { dropIndexKeepingHashes, untilScanned } from './redisearch-build';
import { syntheticTexts } from './synthetic-corpus';

export const BENCH_BACKENDS = ['linear', 'exact', 'hnsw', 'redisearch'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

export interface BackendFigures {
  backend: BenchBackend;
  /** Null when the backend was not measured (see `skipped`). */
  queries: number | null;
  p50: number | null;
  p99: number | null;
  /**
   * Seconds to build the index over the stored observations: for exact and hnsw, loading them from Redis into
   * process memory; for redisearch, FT.CREATE over the existing hashes until FT.INFO reports the scan complete
   * (the index is dropped, hashes kept, before each size). Null for the linear scan, which has none.
   */
  buildSeconds: number | null;
  /** Recall@k against the exact scan over the same queries; null for the exact ones themselves. */
  recall: number | null;
  skipped?: string;
}

export interface SizeFigures {
  observations: number;
  backends: BackendFigures[];
  /** Linear scan latency over hnsw latency. */
  speedup: { p50: number; p99: number };
}

export interface BenchOptions {
  config: MemoryConfig;
  sizes: number[];
  /** A private, disposable Redis (it is flushed). */
  redis: RedisEndpoint;
  /** A Redis Stack for the redisearch backend (disposable too); skipped when absent. */
  redisStack?: RedisEndpoint;
  k: number;
  onProgress?: (message: string) => void;
}

const TENANT = 'bench';
const TURNS_PER_SESSION = 50;
const WRITE_BATCH = 1000;
const QUERY_TEXTS = 200;
const quiet: IndexLogger = { log: () => undefined, warn: () => undefined };

/** Fewer queries where one costs seconds: enough for a median, and P99 is then the maximum. */
const queriesFor = (backend: BenchBackend, n: number) => (backend === 'linear' ? Math.max(5, Math.min(100, Math.floor(200_000 / n))) : QUERY_TEXTS);

class Target {
  readonly redis: RedisClient;
  readonly store: MemoryStore;
  stored = 0;

  constructor(endpoint: RedisEndpoint, config: MemoryConfig) {
    this.redis = createRedis(endpoint);
    this.store = new MemoryStore(this.redis, new KeySchema(config.KEY_PREFIX, config.CHANGELOG_PARTITIONS));
  }

  /** Stores observations until there are `n`: synthetic texts, 50 per session, embedded offline. */
  async fill(n: number, embedder: LocalEmbedder): Promise<void> {
    const now = Date.now();
    while (this.stored < n) {
      const from = this.stored;
      // Each session keeps to one topic, as conversations do.
      const texts = syntheticTexts(Math.min(WRITE_BATCH, n - from), from + 1, (j) => Math.floor((from + j) / TURNS_PER_SESSION));
      const turns: Omit<TurnWrite, 'seq'>[] = texts.map((content, j) => {
        const i = from + j;
        return {
          tenant: TENANT,
          session: `s${Math.floor(i / TURNS_PER_SESSION)}`,
          turnId: `t${i}`,
          role: i % 2 ? 'assistant' : 'user',
          content,
          timestamp: now - (n - i) * 1000,
          tokenCount: content.split(' ').length,
          embedding: embedder.embedOne(content),
        };
      });
      await this.store.ingest(turns);
      this.stored += turns.length;
    }
  }
}

async function untilIndexed(index: VectorIndex, n: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  while ((await index.size()) < n) {
    if (Date.now() > deadline) throw new Error(`the ${index.backend} index holds ${await index.size()} of ${n} vectors after 300 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Times `count` searches (the query vectors in turn) and keeps each query's hit keys. */
async function time(search: (v: Float32Array) => Promise<RankedKey[]>, vectors: Float32Array[], count: number, k: number) {
  for (const v of vectors.slice(0, 3)) await search(v); // warm-up
  const samples: number[] = [];
  const keys: string[][] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const hits = await search(vectors[i % vectors.length]);
    samples.push(performance.now() - t);
    if (hits.length !== k) throw new Error(`a search returned ${hits.length} hits instead of ${k}`);
    keys[i % vectors.length] = hits.map((h) => h.key);
  }
  const s = summarize(samples);
  return { figures: { queries: count, p50: s.p50, p99: s.p99 }, keys };
}

/** Mean share of the exact top k that a backend found, over the queries both ran. */
export function recallAtK(found: readonly string[][], exact: readonly string[][]): number {
  const pairs = found.map((keys, i) => [keys, exact[i]] as const).filter(([, truth]) => truth !== undefined);
  const shares = pairs.map(([keys, truth]) => keys.filter((key) => truth.includes(key)).length / truth.length);
  return shares.reduce((a, b) => a + b, 0) / shares.length;
}

/**
 * The prototype's before/after table, measured: search latency at each size for the prototype's linear scan,
 * the exact in-process scan, hnsw and (with a Redis Stack) redisearch, all through the same store.
 */
export async function runBench(o: BenchOptions): Promise<SizeFigures[]> {
  const embedder = new LocalEmbedder(o.config.EMBEDDING_DIM);
  const queries = syntheticTexts(QUERY_TEXTS, 0x5eed, (i) => i * 7919).map((t) => embedder.embedOne(t));
  const local = new Target(o.redis, o.config);
  const stack = o.redisStack ? new Target(o.redisStack, o.config) : undefined;
  const targets = stack ? [local, stack] : [local];
  try {
    for (const t of targets) await Promise.all((await masters(t.redis)).map((node) => node.flushdb()));
    const out: SizeFigures[] = [];
    for (const n of [...o.sizes].sort((a, b) => a - b)) {
      o.onProgress?.(`storing ${n.toLocaleString('en-US')} observations`);
      for (const t of targets) await t.fill(n, embedder);
      const figures: BackendFigures[] = [];
      let exactKeys: string[][] = []; // BENCH_BACKENDS puts exact before the approximate ones
      for (const backend of BENCH_BACKENDS) {
        const target = backend === 'redisearch' ? stack : local;
        if (!target) {
          figures.push({ backend, queries: null, p50: null, p99: null, buildSeconds: null, recall: null, skipped: 'REDIS_STACK_URL not set' });
          continue;
        }
        o.onProgress?.(`${n.toLocaleString('en-US')} observations: ${backend}`);
        if (backend === 'linear') {
          const scan = new PrototypeLinearScan(target.store);
          const timed = await time((v) => scan.search(TENANT, v, o.k), queries, queriesFor(backend, n), o.k);
          figures.push({ backend, buildSeconds: null, recall: null, ...timed.figures });
          continue;
        }
        // RediSearch keeps its index in Redis and updates it on every write: drop it, so each size times a real build.
        if (backend === 'redisearch') await dropIndexKeepingHashes(target.redis, target.store.keys.searchIndex);
        const t0 = performance.now();
        const config = { ...o.config, VECTOR_BACKEND: backend };
        const index = await createVectorIndex({ config, redis: target.redis, store: target.store, logger: quiet });
        try {
          if (backend === 'redisearch') await untilScanned(target.redis, target.store.keys.searchIndex);
          await untilIndexed(index, n);
          const buildSeconds = (performance.now() - t0) / 1000;
          // Vector search alone, and the hits' turns read, as the prototype's linear scan (the default mode, hybrid, needs the query text).
          const search = async (v: Float32Array) => loadTurns(target.store, await index.search({ tenant: TENANT, k: o.k, mode: 'vector', vector: v }));
          const timed = await time(search, queries, queriesFor(backend, n), o.k);
          if (backend === 'exact') exactKeys = timed.keys;
          figures.push({ backend, buildSeconds, recall: backend === 'exact' ? null : recallAtK(timed.keys, exactKeys), ...timed.figures });
        } finally {
          await index.close();
        }
      }
      const linear = figures.find((f) => f.backend === 'linear')!;
      const hnsw = figures.find((f) => f.backend === 'hnsw')!;
      out.push({ observations: n, backends: figures, speedup: { p50: linear.p50! / hnsw.p50!, p99: linear.p99! / hnsw.p99! } });
    }
    return out;
  } finally {
    for (const t of targets) t.redis.disconnect();
  }
}
