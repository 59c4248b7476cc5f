import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MemoryStore, type Role, ROLES, type StoredTurn } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { LIMITS } from '../common/limits';
import { PageLimit } from '../common/page-limit.dto';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';
import { toIso } from '../common/timestamp';

export class HistoryQuery extends PageLimit {
  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0, maximum: LIMITS.maxOffset })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LIMITS.maxOffset)
  offset = 0;
}

export class HistoryTurn {
  @ApiProperty()
  seq: number;

  @ApiProperty()
  turnId: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty()
  content: string;

  @ApiProperty({ format: 'date-time', example: '2024-05-01T09:00:00.000Z' })
  timestamp: string;

  @ApiProperty({ description: 'o200k tokens of content' })
  tokenCount: number;

  @ApiProperty({ type: String, nullable: true, description: 'The user the turn was stored for', example: 'alice' })
  userId: string | null;

  @ApiPropertyOptional({ type: [String] })
  tags?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  metadata?: Record<string, unknown>;
}

export class HistoryPage {
  @ApiProperty({ description: 'Stored turns in the session' })
  total: number;

  @ApiProperty()
  offset: number;

  @ApiProperty({ type: [HistoryTurn], description: 'Oldest first' })
  turns: HistoryTurn[];
}

/** The shape of search hits: ISO 8601 time and userId (null without a user); the speaker label is the index's, not the API's. */
const toHistoryTurn = ({ key: _key, tenant: _t, session: _s, user, timestamp, speaker: _speaker, ...turn }: StoredTurn): HistoryTurn => ({
  ...turn,
  timestamp: toIso(timestamp)!,
  userId: user ?? null,
});

@ApiTags('turns')
@Controller('v1/sessions/:sessionId/turns')
export class SessionHistoryController {
  constructor(private readonly store: MemoryStore) {}

  @Get()
  @Access('read')
  @TimedOperation('read', 'history')
  @ApiOperation({ summary: "A page of the session's stored turns, oldest first" })
  @ApiOkResponse({ type: HistoryPage })
  @ApiErrors()
  async history(@Tenant() tenant: string, @Param() { sessionId }: SessionParams, @Query() { offset, limit }: HistoryQuery): Promise<HistoryPage> {
    const { total, turns } = await this.store.history(tenant, sessionId, offset, limit);
    return { total, offset, turns: turns.map(toHistoryTurn) };
  }
}
