import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { MemoryRepository, NotFoundError } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { MemoryParams } from '../memory-history/memory-params.dto';

export class ForgottenMemory {
  @ApiProperty()
  memoryId: string;

  @ApiProperty({ description: 'Always true: an unknown memory is a 404' })
  deleted: boolean;
}

@ApiTags('long-term memories')
@Controller('v1/memories/:memoryId')
export class ForgetMemoryController {
  constructor(private readonly memories: MemoryRepository) {}

  @Delete()
  @TimedOperation('write', 'forget_memory')
  @ApiOperation({ summary: 'Forget one long-term memory with its history (the turns it came from stay)' })
  @ApiOkResponse({ type: ForgottenMemory })
  @ApiErrors(404)
  async forget(@Tenant() tenant: string, @Param() { memoryId }: MemoryParams): Promise<ForgottenMemory> {
    if (!(await this.memories.delete(MemoryRepository.parseMemoryId(tenant, memoryId), memoryId))) throw new NotFoundError(`no memory ${memoryId}`);
    return { memoryId, deleted: true };
  }
}
