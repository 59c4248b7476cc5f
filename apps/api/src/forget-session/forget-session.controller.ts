import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { MemoryStore, NotFoundError } from '@app/memory';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';

@ApiTags('sessions')
@Controller('v1/sessions/:sessionId')
export class ForgetSessionController {
  constructor(private readonly store: MemoryStore) {}

  @Delete()
  @TimedOperation('write', 'forget')
  @ApiOperation({ summary: 'Forget a session: its turns, its history and its vectors' })
  async forget(@Tenant() tenant: string, @Param() { sessionId }: SessionParams) {
    const result = await this.store.deleteSession(tenant, sessionId);
    if (!result) throw new NotFoundError(`session ${sessionId} does not exist`);
    return { deleted: result.deleted };
  }
}
