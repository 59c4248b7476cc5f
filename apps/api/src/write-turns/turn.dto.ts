import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { Role } from '@app/memory';
import { ID_PATTERN, ROLES, TAG_PATTERN, TURN_ID_PATTERN } from '@app/memory';
import { FitsEmbeddingInput } from '../common/fits-embedding-input';
import { LIMITS } from '../common/limits';
import { IsSmallJsonObject } from './is-small-json-object';

export class TurnDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;

  @ApiProperty({ maxLength: LIMITS.contentChars })
  @IsString()
  @MinLength(1)
  @MaxLength(LIMITS.contentChars)
  @FitsEmbeddingInput()
  content: string;

  @ApiPropertyOptional({ description: 'Unix epoch milliseconds; defaults to the time the API accepted the turn', maximum: LIMITS.maxTimestamp })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(LIMITS.maxTimestamp)
  timestamp?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `At most ${LIMITS.metadataKeys} keys and ${LIMITS.metadataBytes} bytes of JSON` })
  @IsOptional()
  @IsObject()
  @IsSmallJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], maxItems: LIMITS.tags, description: 'Labels to filter searches by' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags)
  @Matches(TAG_PATTERN, { each: true, message: `each tag must match ${TAG_PATTERN.source}` })
  tags?: string[];

  @ApiPropertyOptional({ description: 'Idempotency key: a turn id sent twice is stored once (any printable text, up to 128 characters)', maxLength: 128 })
  @IsOptional()
  @IsString()
  @Matches(TURN_ID_PATTERN, { message: 'id must be 1 to 128 printable characters' })
  id?: string;

  @ApiPropertyOptional({ description: 'The user the session belongs to; a session belongs to at most one user', pattern: ID_PATTERN.source })
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

  @ApiPropertyOptional({ description: 'The user the session belongs to (for every turn of the batch)', pattern: ID_PATTERN.source })
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

export interface AcceptedTurn {
  turnId: string;
  seq: number;
}
