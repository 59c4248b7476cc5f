import { Controller, Get, HttpStatus, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { RedisClient } from '@app/memory/redis/create-redis';
import { extractionEnabled, GenerationWatch, KeySchema, MemoryConfig, QUEUES, TURN_FIELDS } from '@app/memory';
import { checkRedis } from '@app/memory/redis/check-redis';
import { indexingFailures } from '@app/memory/vector/redisearch/redisearch-index';
import { REDIS } from '@app/memory/nest/tokens';
import { ApiException } from '../common/api-exception';
import { JobGateway } from '../common/job-gateway';

export class Liveness {
  @ApiProperty({ example: 'ok' })
  status: string;
}

export class Readiness {
  @ApiProperty({ example: 'ready' })
  status: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { redis: 'ok', embedWorkers: 'ok (2)', retrieveWorkers: 'ok (1)', extractWorkers: 'ok (1)', embedding: 'ok (local/local/1024 (3f2a9c0b51d4))' } })
  checks: Record<string, string>;
}

const EXTRACT_CHECK = `${QUEUES.extract}Workers`;
/** The embedding generation: reported, not gating (a process whose EMBEDDING_* differs embeds with the active one). */
const EMBEDDING_CHECK = 'embedding';
const REPORTED = new Set([EXTRACT_CHECK, EMBEDDING_CHECK]);

/**
 * How long /readyz fails after FT.INFO's hash_indexing_failures last rose. RediSearch never lowers the count until
 * the index is re-created, so failing while it is above 0 would leave every replica unready for good over one bad
 * hash; a misconfigured index (every write failing) keeps it rising, and so keeps readiness failing.
 */
const INDEX_FAILURE_WINDOW_MS = 10 * 60_000;

/** Public, as every route outside /v1/ is: probes carry no key. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly jobs: JobGateway,
    private readonly config: MemoryConfig,
    private readonly generations: GenerationWatch,
    private readonly keys: KeySchema,
  ) {}

  /** The failure count last read, and when it last rose (a count above 0 at the first read counts as a rise). */
  private indexFailures = { count: 0, roseAt: 0 };

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers', security: [] })
  @ApiOkResponse({ type: Liveness })
  health(): Liveness {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({
    summary:
      'Readiness: Redis answers (a cluster: every slot is served), the queues are ready and the embed and retrieve queues each have a worker; with a RediSearch index, its count of hashes it failed to index (searchIndex: FT.INFO hash_indexing_failures) has not risen in the last 10 minutes; extractWorkers reports the extractors, or that extraction is off (LLM_PROVIDER=local), and does not gate readiness; embedding reports the active embedding generation, or that EMBEDDING_* differs from it (the process then embeds with the active one), and does not gate readiness',
    security: [],
  })
  @ApiOkResponse({ type: Readiness })
  @ApiServiceUnavailableResponse({ description: 'Not ready: {statusCode, error, code: not_ready, message, checks}: checks says which failed' })
  async ready(): Promise<Readiness> {
    const checks: Record<string, string> = {};
    try {
      // Each command is bounded by REDIS_COMMAND_TIMEOUT_MS: a hung Redis makes this a 503, not a hang.
      await checkRedis(this.redis);
      checks.redis = 'ok';
      const queues = [QUEUES.embed, QUEUES.retrieve, ...(extractionEnabled(this.config) ? [QUEUES.extract] : [])];
      const workers = await Promise.all(queues.map((name) => this.jobs.queue(name).getWorkersCount()));
      queues.forEach((name, i) => (checks[`${name}Workers`] = workers[i] > 0 ? `ok (${workers[i]})` : 'none'));
      // Without a model nothing is extracted: no extractor is needed, and none pretends to work.
      if (!extractionEnabled(this.config)) checks[EXTRACT_CHECK] = 'off (LLM_PROVIDER=local: no model to extract facts with)';
      checks[EMBEDDING_CHECK] = this.generations.check();
      const searchIndex = await this.searchIndexCheck();
      if (searchIndex) checks.searchIndex = searchIndex;
    } catch (err) {
      checks.redis = `unreachable: ${(err as Error).message}`;
    }
    // Extraction runs behind the writes: without an extractor, turns are still stored and searched, so it is reported, not required.
    const ok = Object.entries(checks).every(([name, c]) => REPORTED.has(name) || c.startsWith('ok'));
    if (!ok) throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, 'not_ready', 'not ready', { checks });
    return { status: 'ready', checks };
  }

  /**
   * The RediSearch index of the active embedding generation, where there is one: RediSearch counts a hash it cannot index (hash_indexing_failures)
   * and still acknowledges the write, so turns would be stored and never found.
   */
  private async searchIndexCheck(): Promise<string | undefined> {
    if (this.config.VECTOR_BACKEND === 'hnsw' || this.config.VECTOR_BACKEND === 'exact') return undefined;
    const { active } = this.generations;
    const failures = await indexingFailures(this.redis, this.keys.generationIndex(active, active.field === TURN_FIELDS.embedding));
    if (failures === undefined) return undefined;
    if (failures > this.indexFailures.count) this.indexFailures.roseAt = Date.now();
    this.indexFailures.count = failures;
    if (failures === 0) return 'ok';
    const note = `${failures} hashes not indexed (FT.INFO hash_indexing_failures), their turns are not searchable`;
    return Date.now() - this.indexFailures.roseAt < INDEX_FAILURE_WINDOW_MS ? `failing: ${note}` : `ok (${note}; none since ${new Date(this.indexFailures.roseAt).toISOString()})`;
  }
}
