import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { MemoryHistoryService } from './memory-history.service';
import { MemoryHistoryView } from './memory-history.view';
import { MemoryParams } from './memory-params.dto';
import { Access } from '../auth/access.decorator';

@ApiTags('long-term memories')
@Controller('v1/memories/:memoryId/history')
export class MemoryHistoryController {
  constructor(private readonly memories: MemoryHistoryService) {}

  @Get()
  @Access('read')
  @TimedOperation('read', 'memory_history')
  @ApiOperation({ summary: 'How a long-term memory changed: its current version and the earlier ones, with their validity' })
  @ApiOkResponse({ type: MemoryHistoryView })
  @ApiErrors(404)
  history(@Tenant() tenant: string, @Param() { memoryId }: MemoryParams): Promise<MemoryHistoryView> {
    return this.memories.history(tenant, memoryId);
  }
}
