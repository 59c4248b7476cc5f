import { ConfigError } from '../../errors/config.error';
import type { RedisClient } from '../../redis/create-redis';
import { IndexSchemaMismatchError } from '../../errors/index-schema-mismatch.error';
import { SearchReplyError } from '../../errors/search-reply.error';
import { TURN_FIELDS as F } from '../../store/turn';
import { vectorToBuffer } from '../../store/vector-bytes';
import { checkQuery } from '../check-query';
import { FUSION_DEPTH, fuseRankings, textScores } from '../fusion';
import { CONTEXT_WEIGHT, STOP_WORDS } from '../text-terms';
import { buildKnnArgs, buildTextArgs, parseKnnReply, parseTextReply } from './redisearch-query';
import type { EmbeddingGeneration } from '../../generation/embedding-generation';
import { indexedGeneration, type IndexLogger, type RankedKey, type VectorHit, type VectorIndex, type VectorIndexOptions, type VectorQuery } from '../vector-index';

/**
 * The indexed fields: type plus the flags FT.INFO must show, and those it must not. Id and tag TAGs are
 * case-sensitive (ids are); content is stemmed, as the in-process index and the query words assume.
 */
const SCHEMA: { field: string; type: string; flags: string[]; without?: string[] }[] = [
  { field: F.tenant, type: 'TAG', flags: ['CASESENSITIVE'] },
  { field: F.session, type: 'TAG', flags: ['CASESENSITIVE'] },
  { field: F.user, type: 'TAG', flags: ['CASESENSITIVE'] },
  { field: F.tags, type: 'TAG', flags: ['CASESENSITIVE'] },
  { field: F.role, type: 'TAG', flags: [] },
  { field: F.timestamp, type: 'NUMERIC', flags: ['SORTABLE'] },
  { field: F.content, type: 'TEXT', flags: [], without: ['NOSTEM'] },
  { field: F.embedding, type: 'VECTOR', flags: [] },
  { field: F.kind, type: 'TAG', flags: [] },
  // The previous turn's words, at a lower weight (contextual indexing, as the in-process index's boost).
  { field: F.context, type: 'TEXT', flags: ['WEIGHT', String(CONTEXT_WEIGHT)] },
  { field: F.eventAt, type: 'NUMERIC', flags: [] },
];

/** The vector field's parameters, as FT.CREATE sets them and FT.INFO (2.10+) reports them. */
export interface VectorParams {
  dim: number;
  m: number;
  efConstruction: number;
  /** The hash field the vector attribute reads (its generation's); default `embedding`. */
  field?: string;
}

/** The vector attribute's SCHEMA head: `embedding`, or `<field> AS embedding` for a generation stored elsewhere. */
const vectorSource = (field: string) => (field === F.embedding ? [field] : [field, 'AS', F.embedding]);

/** Fields added after the first schema: an index without them gets them with FT.ALTER (only new hashes carry them). */
const ADDED_LATER = new Set<string>([F.kind, F.context, F.eventAt]);

/**
 * RediSearch (Redis Stack 7.x, Redis 8) indexes the turn hashes itself on HSET, so searches see every completed
 * write and minLogIds need no wait. Written from the documented FT.CREATE / FT.SEARCH / FT.INFO semantics of 2.6+.
 */
export class RediSearchIndex implements VectorIndex {
  readonly backend = 'redisearch' as const;
  private readonly logger: IndexLogger;
  /** The embedding generation indexed: its dimension, and the hash field its vector attribute reads. */
  private readonly generation: EmbeddingGeneration;
  /** Each generation has an index of its own (the first keeps the name it always had). */
  private readonly name: string;
  /** FT.INFO is read this often, to see hash_indexing_failures rise. */
  private watch?: NodeJS.Timeout;
  private failures = 0;

  constructor(private readonly opts: VectorIndexOptions) {
    this.logger = opts.logger ?? console;
    this.generation = indexedGeneration(opts);
    this.name = opts.store.keys.generationIndex(this.generation, this.generation.field === F.embedding);
  }

  async init(): Promise<void> {
    let info = await this.info();
    if (!info) {
      try {
        await this.opts.redis.call('FT.CREATE', ...this.createArgs());
        this.logger.log(`redisearch: created index ${this.name} (DIM ${this.generation.dim}, vectors in ${this.generation.field})`);
      } catch (err) {
        if (!/already exists/i.test((err as Error).message)) throw err; // another replica won the race
      }
      info = (await this.info())!;
    }
    info = await this.addMissingFields(info);
    const { HNSW_M: m, HNSW_EF_CONSTRUCTION: efConstruction } = this.opts.config;
    const { dim, field } = this.generation;
    const differences = [...schemaDifferences(info, this.opts.store.keys.turnPrefix, { dim, m, efConstruction, field }), ...(await this.dimensionDifference())];
    if (differences.length > 0) throw new IndexSchemaMismatchError(this.name, differences);
    if (!vectorParamsReported(info)) {
      this.logger.warn(
        `redisearch: this server's FT.INFO does not report the vector field's parameters (RediSearch before 2.10): its DIM is checked by a probe, its algorithm, type, metric, M and EF_CONSTRUCTION are taken on trust`,
      );
    }
    this.failures = Number(info.hash_indexing_failures ?? 0);
    this.opts.onIndexingFailures?.(this.failures);
    if (this.failures > 0) this.logger.warn(`redisearch: ${this.name} failed to index ${this.failures} hashes (hash_indexing_failures): those turns are not searchable`);
    await this.waitForInitialScan();
    await this.checkTimeoutPolicy();
    this.watch = setInterval(() => void this.watchFailures(), this.opts.config.REDISEARCH_WATCH_INTERVAL_MS);
  }

  /**
   * Reports hash_indexing_failures, and says when it rose: RediSearch does not refuse an HSET it cannot index (a
   * vector of another size, say), it counts it, and the turn is silently never found.
   */
  private async watchFailures(): Promise<void> {
    try {
      const failures = Number((await this.info())?.hash_indexing_failures ?? 0);
      this.opts.onIndexingFailures?.(failures);
      if (failures > this.failures) {
        this.logger.warn(`redisearch: ${this.name}'s hash_indexing_failures rose from ${this.failures} to ${failures}: hashes written since were not indexed, and their turns are not searchable`);
      }
      this.failures = failures;
    } catch (err) {
      this.logger.warn(`redisearch: reading FT.INFO of ${this.name} failed, trying again in ${this.opts.config.REDISEARCH_WATCH_INTERVAL_MS} ms: ${(err as Error).message}`);
    }
  }

  async search(q: VectorQuery): Promise<VectorHit[]> {
    if (!checkQuery(q, this.generation.dim)) return [];
    const mode = q.mode ?? 'hybrid';
    if (mode === 'vector') return this.knn(q, q.k);
    if (mode === 'text') {
      const text = await this.text(q, q.k);
      return withBriefs(textScores(text), text);
    }
    return this.hybrid(q);
  }

  /** Both FT.SEARCH calls go out together (one round trip); the fused keys take their briefs from either reply. */
  private async hybrid(q: VectorQuery): Promise<VectorHit[]> {
    const depth = Math.max(q.k, FUSION_DEPTH);
    const [text, vector] = await Promise.all([this.text(q, depth), this.knn(q, depth)]);
    return withBriefs(fuseRankings(text, vector, this.opts.config.HYBRID_TEXT_WEIGHT, q.k), [...text, ...vector]);
  }

  private knn(q: VectorQuery, k: number): Promise<VectorHit[]> {
    const { HNSW_EF_RUNTIME, REDISEARCH_TIMEOUT_MS } = this.opts.config;
    return this.ftSearch(buildKnnArgs(this.name, q, k, q.efRuntime ?? HNSW_EF_RUNTIME, REDISEARCH_TIMEOUT_MS), parseKnnReply);
  }

  private async text(q: VectorQuery, k: number): Promise<VectorHit[]> {
    const args = buildTextArgs(this.name, q, k, this.opts.config.REDISEARCH_TIMEOUT_MS);
    return args ? this.ftSearch(args, parseTextReply) : [];
  }

  /** FT.SEARCH and its parse; a timeout or a malformed reply is counted (onSearchFailure) and thrown as SearchReplyError. */
  private async ftSearch(args: (string | number | Buffer)[], parse: (reply: unknown) => VectorHit[]): Promise<VectorHit[]> {
    try {
      let reply: unknown;
      try {
        reply = await this.opts.redis.call('FT.SEARCH', ...args);
      } catch (err) {
        // ON_TIMEOUT FAIL answers with an error on some versions, with ["Timeout limit was reached"] on others.
        if (/timeout/i.test((err as Error).message)) throw new SearchReplyError('timeout', (err as Error).message);
        throw err;
      }
      return parse(reply);
    } catch (err) {
      if (err instanceof SearchReplyError) this.opts.onSearchFailure?.(err.reason);
      throw err;
    }
  }

  async size(): Promise<number> {
    return Number((await this.info())?.num_docs ?? 0);
  }

  async close(): Promise<void> {
    // The index lives in Redis; the connection belongs to the caller.
    clearInterval(this.watch);
  }

  /** FT.DROPINDEX without DD: the hashes stay (they belong to the store); another retriever may have dropped it first. */
  async retire(): Promise<void> {
    await this.close();
    try {
      await this.opts.redis.call('FT.DROPINDEX', this.name);
      this.logger.log(`redisearch: dropped index ${this.name} (generation ${this.generation.id})`);
    } catch (err) {
      if (!/unknown index name|no such index/i.test((err as Error).message)) throw err;
    }
  }

  /** FT.CREATE arguments after the command name. */
  createArgs(): (string | number)[] {
    const { config, store } = this.opts;
    const vector = [
      'TYPE', 'FLOAT32', 'DIM', this.generation.dim, 'DISTANCE_METRIC', 'COSINE',
      'M', config.HNSW_M, 'EF_CONSTRUCTION', config.HNSW_EF_CONSTRUCTION, 'EF_RUNTIME', config.HNSW_EF_RUNTIME,
    ];
    return [
      // The service's own stop words: RediSearch's default list also drops words such as "not" and "no" at query
      // time, and a query of such words then lost its text clause and matched every turn of the tenant.
      this.name, 'ON', 'HASH', 'PREFIX', 1, store.keys.turnPrefix, 'STOPWORDS', STOP_WORDS.size, ...STOP_WORDS, 'SCHEMA',
      ...SCHEMA.flatMap(({ field, type, flags }) =>
        // The attribute is always `embedding` (the queries name it); it reads the generation's hash field.
        type === 'VECTOR' ? [...vectorSource(this.generation.field), 'VECTOR', 'HNSW', vector.length, ...vector] : [field, type, ...flags]),
    ];
  }

  private info(): Promise<Record<string, unknown> | undefined> {
    return searchIndexInfo(this.opts.redis, this.name);
  }

  /** FT.ALTER ... SCHEMA ADD for the fields of ADDED_LATER that an older index lacks; the info after. */
  private async addMissingFields(info: Record<string, unknown>): Promise<Record<string, unknown>> {
    const attributes = new Set(((info.attributes ?? []) as unknown[][]).map((a) => String(toMap(a).attribute)));
    const missing = SCHEMA.filter((f) => ADDED_LATER.has(f.field) && !attributes.has(f.field));
    if (missing.length === 0) return info;
    for (const { field, type, flags } of missing) {
      try {
        await this.opts.redis.call('FT.ALTER', this.name, 'SCHEMA', 'ADD', field, type, ...flags);
        this.logger.log(`redisearch: added field ${field} to index ${this.name}`);
      } catch (err) {
        if (!/duplicate/i.test((err as Error).message)) throw err; // another replica added it first
      }
    }
    return (await this.info())!;
  }

  /**
   * FT.INFO does not report a vector field's DIM before RediSearch 2.10, so probe it: a KNN query with a vector of
   * the configured dimension fails with "query vector blob size (X) does not match index's expected size (Y)".
   */
  private async dimensionDifference(): Promise<string[]> {
    const probe = new Float32Array(this.generation.dim);
    probe[0] = 1;
    try {
      await this.opts.redis.call('FT.SEARCH', this.name, `*=>[KNN 1 @${F.embedding} $vec]`, 'PARAMS', 2, 'vec', vectorToBuffer(probe),
        'RETURN', 0, 'LIMIT', 0, 1, 'DIALECT', 2);
      return [];
    } catch (err) {
      const expected = /expected size \((\d+)\)/.exec((err as Error).message);
      if (!expected) throw err;
      return [`${F.embedding} has DIM ${Number(expected[1]) / 4}, the generation's is ${this.generation.dim}`];
    }
  }

  /**
   * Under ON_TIMEOUT RETURN (the server's default) a query that runs out answers with what it found so far, and no
   * RESP2 reply shape tells that apart from a complete answer; under FAIL it is an error, which search() throws.
   * A server-wide setting, so it is reported, not changed.
   */
  private async checkTimeoutPolicy(): Promise<void> {
    try {
      const [[, policy] = []] = (await this.opts.redis.call('FT.CONFIG', 'GET', 'ON_TIMEOUT')) as string[][];
      if (String(policy).toLowerCase() !== 'fail') {
        this.logger.warn(`redisearch: ON_TIMEOUT is ${policy}: a query past REDISEARCH_TIMEOUT_MS returns partial results unnoticed; FT.CONFIG SET ON_TIMEOUT FAIL makes it an error`);
      }
    } catch (err) {
      this.logger.warn(`redisearch: could not read ON_TIMEOUT (${(err as Error).message})`);
    }
  }

  /** An index created over existing hashes fills in the background; wait (bounded) so the first searches see them. */
  private async waitForInitialScan(): Promise<void> {
    const deadline = Date.now() + this.opts.config.JOB_TIMEOUT_MS;
    while (Number((await this.info())?.indexing ?? 0) !== 0) {
      if (Date.now() > deadline) {
        this.logger.warn(`redisearch: ${this.name} is still indexing existing turns; searches may miss some until it finishes`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Ranked keys with the briefs the replies returned for them. */
function withBriefs(ranked: RankedKey[], found: VectorHit[]): VectorHit[] {
  const briefs = new Map(found.map((r) => [r.key, r.brief]));
  return ranked.map((r) => ({ ...r, brief: briefs.get(r.key)! }));
}

/** Whether FT.INFO reports the vector field's parameters (RediSearch 2.10+; 2.6 and 2.8 give its type only). */
export function vectorParamsReported(info: Record<string, unknown>): boolean {
  const vector = ((info.attributes ?? []) as unknown[][]).map(toMap).find((a) => a.attribute === F.embedding);
  return vector !== undefined && lowerKeys(vector).dim !== undefined;
}

const lowerKeys = (map: Record<string, unknown>) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));

/** What differs between the vector field FT.INFO reports (2.10+) and the one this service creates. */
function vectorDifferences(attribute: Record<string, unknown>, expected: VectorParams): string[] {
  const reported = lowerKeys(attribute);
  if (reported.dim === undefined) return []; // before 2.10: see vectorParamsReported
  const want: [string, string | number][] = [
    ['algorithm', 'HNSW'], ['data_type', 'FLOAT32'], ['dim', expected.dim], ['distance_metric', 'COSINE'],
    ['m', expected.m], ['ef_construction', expected.efConstruction],
  ];
  return want
    .filter(([key, value]) => reported[key] !== undefined && String(reported[key]).toUpperCase() !== String(value))
    .map(([key, value]) => `field ${F.embedding} has ${key} ${String(reported[key])}, not ${value}`);
}

/** What differs between an FT.INFO reply and the schema this service creates. */
export function schemaDifferences(info: Record<string, unknown>, prefix: string, vector: VectorParams): string[] {
  const differences: string[] = [];
  const definition = toMap((info.index_definition ?? []) as unknown[]);
  if (String(definition.key_type) !== 'HASH') differences.push(`key type is ${String(definition.key_type)}, not HASH`);
  const prefixes = (definition.prefixes ?? []) as string[];
  if (prefixes.length !== 1 || prefixes[0] !== prefix) differences.push(`prefixes are [${prefixes.join(', ')}], not [${prefix}]`);
  // Flags are read from anywhere in an attribute's reply, nested or not, as versions lay them out differently.
  const attributes = ((info.attributes ?? []) as unknown[][]).map((a) => ({ map: toMap(a), words: a.flat(Infinity).map(String) }));
  // FT.INFO lists stop words only when the index has its own (an index on the default list has none listed).
  const stopWords = info.stopwords_list as string[] | undefined;
  if (!stopWords) differences.push(`it uses RediSearch's default stop words, not the service's`);
  else if (stopWords.length !== STOP_WORDS.size || !stopWords.every((w) => STOP_WORDS.has(String(w)))) {
    differences.push(`its stop words are [${stopWords.join(', ')}], not the service's`);
  }
  for (const { field, type, flags, without = [] } of SCHEMA) {
    const found = attributes.find((a) => a.map.attribute === field);
    if (!found) {
      differences.push(`field ${field} is missing`);
      continue;
    }
    const source = type === 'VECTOR' ? (vector.field ?? field) : field;
    if (found.map.identifier !== source) differences.push(`field ${field} reads hash field ${String(found.map.identifier)}, not ${source}`);
    if (found.map.type !== type) differences.push(`field ${field} is ${String(found.map.type)}, not ${type}`);
    for (const flag of flags) if (!found.words.includes(flag)) differences.push(`field ${field} is not ${flag}`);
    for (const flag of without) if (found.words.includes(flag)) differences.push(`field ${field} is ${flag}`);
    if (type === 'VECTOR') differences.push(...vectorDifferences(found.map, vector));
  }
  return differences;
}

/** A RESP2 key/value array as an object (values of odd positions keyed by the preceding string). */
/** FT.INFO as a map, or undefined when the index does not exist; ConfigError when the server has no search module. */
export async function searchIndexInfo(redis: RedisClient, name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return toMap((await redis.call('FT.INFO', name)) as unknown[]);
  } catch (err) {
    const message = (err as Error).message;
    if (/unknown index name|no such index/i.test(message)) return undefined;
    if (/unknown command/i.test(message)) {
      throw new ConfigError('VECTOR_BACKEND=redisearch, but this Redis has no search module (use Redis Stack / Redis 8, or VECTOR_BACKEND=hnsw)');
    }
    throw err;
  }
}

/** FT.INFO's hash_indexing_failures: hashes under the index's prefix it could not index; undefined without the index or the module. */
export async function indexingFailures(redis: RedisClient, name: string): Promise<number | undefined> {
  try {
    const info = await searchIndexInfo(redis, name);
    return info && Number(info.hash_indexing_failures ?? 0);
  } catch (err) {
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
}

export function toMap(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
