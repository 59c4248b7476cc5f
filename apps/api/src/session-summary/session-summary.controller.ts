import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';
import { SessionSummaryService } from './session-summary.service';
import { SessionSummaryView } from './session-summary.view';

@ApiTags('turns')
@Controller('v1/sessions/:sessionId/summary')
export class SessionSummaryController {
  constructor(private readonly summaries: SessionSummaryService) {}

  @Get()
  @Access('read')
  @TimedOperation('read', 'summary')
  @ApiOperation({ summary: "The session's rolling summary of its turns before the recent window: the current version, its range, and the versions kept" })
  @ApiOkResponse({ type: SessionSummaryView })
  @ApiErrors(404)
  summary(@Tenant() tenant: string, @Param() { sessionId }: SessionParams): Promise<SessionSummaryView> {
    return this.summaries.summary(tenant, sessionId);
  }
}
