import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { QUEUES } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { UsesQueues } from '../common/uses-queues.decorator';
import { MemorySearchService } from './memory-search.service';
import { SearchAllMemoriesBody, SearchMemoriesQuery, SearchMemoriesResponse } from './search-memories.dto';
import { Access } from '../auth/access.decorator';

@ApiTags('memories')
@Controller('v1')
export class SearchMemoriesController {
  constructor(private readonly memories: MemorySearchService) {}

  @Get('sessions/:sessionId/memories')
  @Access('read')
  @UsesQueues(QUEUES.retrieve)
  @TimedOperation('read', 'memories')
  @ApiOperation({ summary: "The session's memories most similar to q; all time unless a window is named" })
  @ApiOkResponse({ type: SearchMemoriesResponse })
  @ApiErrors(502, 504)
  session(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Query() { q, role, tag, ...rest }: SearchMemoriesQuery): Promise<SearchMemoriesResponse> {
    return this.memories.search(tenant, { ...rest, query: q, sessions: [sessionId], roles: role === undefined ? undefined : [role], tags: tag === undefined ? undefined : [tag] });
  }

  @Post('memories/search')
  @Access('read', 'body')
  @HttpCode(200)
  @UsesQueues(QUEUES.retrieve)
  @TimedOperation('read', 'memories_search')
  @ApiOperation({ summary: "Memories across the tenant's sessions, filtered by user, sessions, time, roles and tags" })
  @ApiOkResponse({ type: SearchMemoriesResponse })
  @ApiErrors(415, 502, 504)
  tenant(@Tenant() tenant: string, @Body() body: SearchAllMemoriesBody): Promise<SearchMemoriesResponse> {
    return this.memories.searchAll(tenant, body);
  }
}
