import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { KeySchema, MemoryConfig, MemoryStore, QUEUES } from '@app/memory';
import { JobGateway } from '../common/job-gateway';
import { SessionParams } from '../common/session-params.dto';
import { UsesQueues } from '../common/uses-queues.decorator';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { toMemoryView } from './memory-view';
import { SearchMemoriesQuery } from './search-memories.dto';

@ApiTags('memories')
@Controller('v1/sessions/:sessionId/memories')
export class SearchMemoriesController {
  constructor(
    private readonly jobs: JobGateway,
    private readonly store: MemoryStore,
    private readonly keys: KeySchema,
    private readonly config: MemoryConfig,
  ) {}

  @Get()
  @UsesQueues(QUEUES.retrieve)
  @TimedOperation('read', 'memories')
  @ApiOperation({ summary: "The session's memories most similar to q, within the window" })
  async search(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Query() query: SearchMemoriesQuery) {
    const started = performance.now();
    const windowHours = query.windowHours ?? this.config.MEMORY_WINDOW_HOURS;
    const result = await this.jobs.retrieve({
      tenant,
      sessions: [sessionId],
      query: query.q,
      mode: query.mode,
      k: query.k ?? this.config.TOP_K_MEMORIES,
      since: Date.now() - windowHours * 3600_000,
      minLogIds: await this.store.positions(tenant, [this.keys.partition(tenant, sessionId)]),
    });
    return {
      memories: result.memories.map(toMemoryView),
      timings: { embed: result.timings.embedMs, search: result.timings.searchMs, total: performance.now() - started },
    };
  }
}
