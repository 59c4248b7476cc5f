import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Role } from '@app/memory';
import { ID_PATTERN, ROLES } from '@app/memory';
import { LIMITS } from '../common/limits';
import { ApiTimestamp } from '../common/timestamp';

/** A turn as the OpenAPI document describes it; turns-body.schema.ts validates it (a compiled JSON schema: class-validator was too slow for 500-turn batches). */
export class TurnDto {
  @ApiProperty({ enum: ROLES, example: 'user' })
  role: Role;

  @ApiProperty({ maxLength: LIMITS.contentChars, example: 'My flight to Lisbon leaves on 12 May at 09:40.' })
  content: string;

  @ApiTimestamp('When the turn was said (default: when the API accepted it)', '2024-05-01T09:30:00Z')
  timestamp?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `At most ${LIMITS.metadataKeys} keys and ${LIMITS.metadataBytes} bytes of JSON`, example: { source: 'docs' } })
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], maxItems: LIMITS.tags, description: 'Labels to filter searches by', example: ['travel'] })
  tags?: string[];

  @ApiPropertyOptional({ description: 'Idempotency key: a turn id sent twice is stored once (any printable text, up to 128 characters)', maxLength: 128, example: 'msg:1' })
  id?: string;

  @ApiPropertyOptional({ description: 'The user the session belongs to; a session belongs to at most one user', pattern: ID_PATTERN.source, example: 'alice' })
  userId?: string;
}

export class TurnBatchDto {
  @ApiProperty({ type: [TurnDto], maxItems: LIMITS.batchTurns })
  turns: TurnDto[];

  @ApiPropertyOptional({ description: 'The user the session belongs to (for every turn of the batch)', pattern: ID_PATTERN.source, example: 'alice' })
  userId?: string;
}

export class WriteTurnsQuery {
  @ApiPropertyOptional({ description: 'Answer only once the turns are stored and searchable' })
  @IsOptional()
  @IsIn(['true', 'false'])
  wait?: 'true' | 'false';
}

export class AcceptedTurn {
  @ApiProperty({ description: "The client's id, or a generated one" })
  turnId: string;

  @ApiProperty({ description: 'Position in the session, from 1; a resent id keeps its seq' })
  seq: number;
}

export class AcceptedTurns {
  @ApiProperty({ type: [AcceptedTurn], description: 'In request order' })
  turns: AcceptedTurn[];
}
