import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { ListSessionsQuery, SessionsPage } from './list-sessions.dto';
import { ListSessionsService } from './list-sessions.service';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';

@ApiTags('sessions')
@Controller('v1/sessions')
export class ListSessionsController {
  constructor(private readonly sessions: ListSessionsService) {}

  @Get()
  @Access('read', 'query')
  @TimedOperation('read', 'sessions')
  @ApiOperation({ summary: "The tenant's sessions (or one user's), a page at a time, with turn counts and first and last activity" })
  @ApiOkResponse({ type: SessionsPage })
  @ApiErrors()
  list(@Tenant() tenant: string, @Query() query: ListSessionsQuery): Promise<SessionsPage> {
    return this.sessions.list(tenant, query);
  }
}
