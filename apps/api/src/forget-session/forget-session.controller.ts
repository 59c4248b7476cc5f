import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { NotFoundError } from '@app/memory';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { ForgetSessionService } from './forget-session.service';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';

export class ForgottenSession {
  @ApiProperty({ description: 'Stored turns deleted' })
  deleted: number;
}

@ApiTags('sessions')
@Controller('v1/sessions/:sessionId')
export class ForgetSessionController {
  constructor(private readonly sessions: ForgetSessionService) {}

  @Delete()
  @Access('write')
  @TimedOperation('write', 'forget')
  @ApiOperation({ summary: 'Forget a session: its turns, its history, its vectors, and the turns still queued for it' })
  @ApiOkResponse({ type: ForgottenSession })
  @ApiErrors(404)
  async forget(@Tenant() tenant: string, @Param() { sessionId }: SessionParams): Promise<ForgottenSession> {
    const result = await this.sessions.forget(tenant, sessionId);
    if (!result) throw new NotFoundError(`session ${sessionId} does not exist`);
    return result;
  }
}
