import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { UserParams } from '../common/user-params.dto';
import { ListMemoriesQuery, MemoriesPage } from './list-memories.dto';
import { ListMemoriesService } from './list-memories.service';
import { Access } from '../auth/access.decorator';

@ApiTags('long-term memories')
@Controller('v1')
export class ListMemoriesController {
  constructor(private readonly memories: ListMemoriesService) {}

  @Get('users/:userId/memories')
  @Access('read')
  @TimedOperation('read', 'memories_list')
  @ApiOperation({ summary: "The user's long-term memories, extracted from all of the user's sessions" })
  @ApiOkResponse({ type: MemoriesPage })
  @ApiErrors()
  user(@Tenant() tenant: string, @Param() { userId }: UserParams, @Query() { offset, limit }: ListMemoriesQuery): Promise<MemoriesPage> {
    return this.memories.ofUser(tenant, userId, offset, limit);
  }

  @Get('sessions/:sessionId/long-term-memories')
  @Access('read')
  @TimedOperation('read', 'memories_list')
  @ApiOperation({
    summary: "The long-term memories learnt from the session (its user's that it went into, or its own when it has no user); GET .../memories searches its turns and memories",
  })
  @ApiOkResponse({ type: MemoriesPage })
  @ApiErrors()
  session(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Query() { offset, limit }: ListMemoriesQuery): Promise<MemoriesPage> {
    return this.memories.ofSession(tenant, sessionId, offset, limit);
  }
}
