import 'reflect-metadata';
import { isDeepStrictEqual } from 'node:util';
import { MemoryConfig } from '@app/memory/config/memory-config';
import type { EmbeddingGeneration } from '@app/memory/generation/embedding-generation';
import { KeySchema } from '@app/memory/redis/key-schema';
import type { RedisClient } from '@app/memory/redis/redis-endpoint';
import { scanKeys } from '@app/memory/redis/scan-keys';
import { MemoryStore } from '@app/memory/store/memory-store';
import { type StoredTurn, TurnWrite } from '@app/memory/store/turn';
import { turnBrief } from '@app/memory/store/turn-hash';
import { loadTurns } from '@app/memory/vector/load-turns';
import { createVectorIndex } from '@app/memory/vector/create-vector-index';
import { VectorBackend, VectorIndex, VectorQuery } from '@app/memory/vector/vector-index';

/** The brief a hit's turn itself gives (what the index must have answered it with). */
const briefOf = (turn: StoredTurn) => turnBrief(turn, turn.memory !== undefined);

export const T0 = 1_700_000_000_000;

/** A MemoryConfig for tests (no environment involved). */
export function testConfig(over: Partial<MemoryConfig>): MemoryConfig {
  return Object.assign(new MemoryConfig(), { EMBEDDING_DIM: 8, JOB_TIMEOUT_MS: 5000, ...over });
}

/** Unit vector along axis `i`, tilted towards axis `j` by `tilt` (for predictable similarity orders). */
export function axis(dim: number, i: number, tilt = 0, j = (i + 1) % dim): Float32Array {
  const v = new Float32Array(dim);
  v[i] = 1;
  v[j] += tilt;
  return v;
}

/** A deterministic pseudo-random vector (mulberry32), so test data has no accidental ties. */
export function seededVector(dim: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: dim }, () => next() * 2 - 1);
}

let prefixes = 0;
let turnIds = 0;

/** One backend over its own key prefix: a store to write through and index instances to search with. */
export class VectorFixture {
  readonly keys: KeySchema;
  readonly store: MemoryStore;
  private readonly indexes: VectorIndex[] = [];
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  /** Reasons reported through onSearchFailure (RediSearch timeouts and malformed replies). */
  readonly searchFailures: string[] = [];
  /** hash_indexing_failures as reported through onIndexingFailures, oldest first. */
  readonly indexingFailures: number[] = [];

  constructor(
    readonly redis: RedisClient,
    readonly backend: VectorBackend,
    readonly config: Partial<MemoryConfig> & { changelogMaxLen?: number } = {},
  ) {
    this.keys = new KeySchema(`vt${process.pid}x${++prefixes}`, config.CHANGELOG_PARTITIONS);
    this.store = new MemoryStore(redis, this.keys, { changelogMaxLen: config.changelogMaxLen });
  }

  /** A new, initialised index instance (each call is another replica), of the store's first generation unless told. */
  async open(over: Partial<MemoryConfig> = {}, generation?: EmbeddingGeneration): Promise<VectorIndex> {
    const config = testConfig({ KEY_PREFIX: this.keys.prefix, VECTOR_BACKEND: this.backend, ...this.config, ...over });
    const index = await createVectorIndex({
      config,
      generation,
      redis: this.redis,
      store: this.store,
      logger: { log: (m) => this.logs.push(m), warn: (m) => this.warnings.push(m) },
      onSearchFailure: (reason) => this.searchFailures.push(reason),
      onIndexingFailures: (count) => this.indexingFailures.push(count),
    });
    this.indexes.push(index);
    return index;
  }

  /** Accepts and stores turns; the store numbers them per session in order, so a given `seq` only documents the expected one. */
  async write(turns: Partial<TurnWrite>[]): Promise<string[]> {
    const full = turns.map(({ seq: _expected, ...t }, i): Omit<TurnWrite, 'seq'> => ({
      tenant: 't1', session: 's1', turnId: `id-${++turnIds}`, role: 'user',
      content: `turn ${i}`, timestamp: T0 + i, tokenCount: 2, embedding: axis(8, 0), ...t,
    }));
    return (await this.store.ingest(full)).map((r) => r.key);
  }

  async deleteSession(tenant: string, session: string): Promise<void> {
    await this.store.deleteSession(tenant, session);
  }

  /**
   * Searches with read-your-writes on the tenant's writes, as the retriever does (in the vector mode unless told), and
   * reads the hits' turns: every hit's brief, the index's answer that the re-rank reads, must be what its turn says.
   */
  async search(index: VectorIndex, q: Omit<VectorQuery, 'tenant'> & { tenant?: string }) {
    const tenant = q.tenant ?? 't1';
    const hits = await loadTurns(this.store, await index.search({ tenant, minLogIds: await this.store.positions(tenant), mode: 'vector', ...q }));
    const wrong = hits.find((h) => !isDeepStrictEqual(h.brief, briefOf(h.turn)));
    if (wrong) throw new Error(`the ${this.backend} index answered ${wrong.key} with ${JSON.stringify(wrong.brief)}, its turn says ${JSON.stringify(briefOf(wrong.turn))}`);
    return hits;
  }

  async close(): Promise<void> {
    await Promise.all(this.indexes.map((i) => i.close()));
    // Private servers are thrown away; a shared Redis Stack or cluster gets this prefix's keys removed (one at a
    // time: on a cluster they live in many slots).
    if (this.backend === 'redisearch') {
      for await (const keys of scanKeys(this.redis, `${this.keys.prefix}*`)) await Promise.all(keys.map((k) => this.redis.unlink(k)));
      if ((await this.redis.call('FT._LIST') as string[]).includes(this.keys.searchIndex)) {
        await this.redis.call('FT.DROPINDEX', this.keys.searchIndex);
      }
    }
  }
}
