import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MemoryStore } from '@app/memory';
import { LIMITS } from '../common/limits';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';

export class HistoryQuery {
  @ApiPropertyOptional({ default: 0, maximum: LIMITS.maxOffset })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LIMITS.maxOffset)
  offset = 0;

  @ApiPropertyOptional({ default: 50, maximum: LIMITS.pageSize })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIMITS.pageSize)
  limit = 50;
}

@ApiTags('turns')
@Controller('v1/sessions/:sessionId/turns')
export class SessionHistoryController {
  constructor(private readonly store: MemoryStore) {}

  @Get()
  @TimedOperation('read', 'history')
  @ApiOperation({ summary: "A page of the session's stored turns, oldest first" })
  async history(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Query() { offset, limit }: HistoryQuery) {
    const { total, turns } = await this.store.history(tenant, sessionId, offset, limit);
    return { total, offset, turns: turns.map(({ key: _key, tenant: _t, session: _s, ...turn }) => turn) };
  }
}
