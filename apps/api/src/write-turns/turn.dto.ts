import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
} from 'class-validator';
import type { Role } from '@app/memory';
import { ID_PATTERN, ROLES, TAG_PATTERN, TURN_ID_PATTERN } from '@app/memory';
import { IsEmbeddableText } from '../common/fits-embedding-input';
import { LIMITS } from '../common/limits';
import { IsTimestamp } from '../common/timestamp';
import { IsSmallJsonObject } from './is-small-json-object';

export class TurnDto {
  @ApiProperty({ enum: ROLES, example: 'user' })
  @IsIn(ROLES)
  role: Role;

  @ApiProperty({ maxLength: LIMITS.contentChars, example: 'My flight to Lisbon leaves on 12 May at 09:40.' })
  @IsEmbeddableText()
  content: string;

  @IsOptional()
  @IsTimestamp('When the turn was said (default: when the API accepted it)', '2024-05-01T09:30:00Z')
  timestamp?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `At most ${LIMITS.metadataKeys} keys and ${LIMITS.metadataBytes} bytes of JSON`, example: { source: 'docs' } })
  @IsOptional()
  @IsObject()
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], maxItems: LIMITS.tags, description: 'Labels to filter searches by', example: ['travel'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags)
  @Matches(TAG_PATTERN, { each: true, message: `each tag must match ${TAG_PATTERN.source}` })
  tags?: string[];

  @ApiPropertyOptional({ description: 'Idempotency key: a turn id sent twice is stored once (any printable text, up to 128 characters)', maxLength: 128, example: 'msg:1' })
  @IsOptional()
  @IsString()
  @Matches(TURN_ID_PATTERN, { message: 'id must be 1 to 128 printable characters' })
  id?: string;

  @ApiPropertyOptional({ description: 'The user the session belongs to; a session belongs to at most one user', pattern: ID_PATTERN.source, example: 'alice' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;
}

export class TurnBatchDto {
  @ApiProperty({ type: [TurnDto], maxItems: LIMITS.batchTurns })
  @ValidateNested({ each: true })
  @Type(() => TurnDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(LIMITS.batchTurns)
  turns: TurnDto[];

  @ApiPropertyOptional({ description: 'The user the session belongs to (for every turn of the batch)', pattern: ID_PATTERN.source, example: 'alice' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
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
