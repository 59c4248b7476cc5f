import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { MemoryConfig, MemoryStore } from '@app/memory';
import { JobGateway } from '../common/job-gateway';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { toMemoryView } from './memory-view';
import { SearchMemoriesQuery } from './search-memories.dto';

@ApiTags('memories')
@Controller('v1/sessions/:sessionId/memories')
export class SearchMemoriesController {
  constructor(
    private readonly jobs: JobGateway,
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
  ) {}

  @Get()
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
      minLogId: await this.store.lastLogId(),
    });
    return {
      memories: result.memories.map(toMemoryView),
      timings: { embed: result.timings.embedMs, search: result.timings.searchMs, total: performance.now() - started },
    };
  }
}
