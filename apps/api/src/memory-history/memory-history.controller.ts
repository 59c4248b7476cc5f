import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { MemoryRepository, NotFoundError } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { MemoryVersionView, MemoryView, toMemoryView, toVersionView } from '../list-memories/memory-view';
import { MemoryParams } from './memory-params.dto';

export class MemoryHistoryView {
  @ApiProperty()
  memoryId: string;

  @ApiProperty({ type: MemoryView, nullable: true, description: 'The memory as it is now; null once the extractor deleted it (no longer true)' })
  current: MemoryView | null;

  @ApiProperty({ type: [MemoryVersionView], description: 'Earlier versions, newest first, each with the time it stopped being true' })
  versions: MemoryVersionView[];
}

@ApiTags('long-term memories')
@Controller('v1/memories/:memoryId/history')
export class MemoryHistoryController {
  constructor(private readonly memories: MemoryRepository) {}

  @Get()
  @TimedOperation('read', 'memory_history')
  @ApiOperation({ summary: 'How a long-term memory changed: its current version and the earlier ones, with their validity' })
  @ApiOkResponse({ type: MemoryHistoryView })
  @ApiErrors(404)
  async history(@Tenant() tenant: string, @Param() { memoryId }: MemoryParams): Promise<MemoryHistoryView> {
    const found = await this.memories.history(MemoryRepository.parseMemoryId(tenant, memoryId), memoryId);
    if (!found) throw new NotFoundError(`no memory ${memoryId}`);
    return { memoryId, current: found.current ? toMemoryView(found.current) : null, versions: found.versions.map(toVersionView) };
  }
}
