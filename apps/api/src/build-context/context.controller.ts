import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { ContextBody, ContextResponse } from './context.dto';
import { ContextService } from './context.service';
import { QUEUES } from '@app/memory';
import { TimedOperation } from '../common/timed-operation';
import { UsesQueues } from '../common/uses-queues.decorator';
import { Access } from '../auth/access.decorator';

@ApiTags('memories')
@Controller('v1/sessions/:sessionId/context')
export class ContextController {
  constructor(private readonly contexts: ContextService) {}

  @Post()
  @Access('read')
  @UsesQueues(QUEUES.retrieve)
  @TimedOperation('read', 'context')
  @HttpCode(200)
  @ApiOperation({ summary: 'The memory context for your own LLM call: a system message with the relevant memories, then the recent turns, within maxTokens' })
  @ApiOkResponse({ type: ContextResponse })
  @ApiErrors(415, 502, 504)
  build(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Body() body: ContextBody): Promise<ContextResponse> {
    return this.contexts.build(tenant, sessionId, body);
  }
}
