import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { UserParams } from '../common/user-params.dto';
import { ForgetUserService } from './forget-user.service';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';

export class ForgottenUser {
  @ApiProperty({ description: 'Sessions forgotten' })
  sessions: number;

  @ApiProperty({ description: 'Stored turns deleted' })
  deleted: number;
}

@ApiTags('users')
@Controller('v1/users/:userId')
export class ForgetUserController {
  constructor(private readonly users: ForgetUserService) {}

  @Delete()
  @Access('write')
  @TimedOperation('write', 'forget_user')
  @ApiOperation({ summary: "Forget a user (right to be forgotten): every one of the user's sessions, as DELETE /v1/sessions/:sessionId does, turns still queued included" })
  @ApiOkResponse({ type: ForgottenUser })
  @ApiErrors(404)
  async forget(@Tenant() tenant: string, @Param() { userId }: UserParams): Promise<ForgottenUser> {
    const result = await this.users.forget(tenant, userId);
    if (!result) throw new NotFoundError(`user ${userId} has no session`);
    return result;
  }
}
