import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { MemoryParams } from '../memory-history/memory-params.dto';
import { ForgetMemoryService } from './forget-memory.service';
import { Access } from '../auth/access.decorator';

export class ForgottenMemory {
  @ApiProperty()
  memoryId: string;

  @ApiProperty({ description: 'Always true: an unknown memory is a 404' })
  deleted: boolean;
}

@ApiTags('long-term memories')
@Controller('v1/memories/:memoryId')
export class ForgetMemoryController {
  constructor(private readonly memories: ForgetMemoryService) {}

  @Delete()
  @Access('write')
  @TimedOperation('write', 'forget_memory')
  @ApiOperation({ summary: 'Forget one long-term memory with its history (the turns it came from stay)' })
  @ApiOkResponse({ type: ForgottenMemory })
  @ApiErrors(404)
  forget(@Tenant() tenant: string, @Param() { memoryId }: MemoryParams): Promise<ForgottenMemory> {
    return this.memories.forget(tenant, memoryId);
  }
}
