import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, Matches, Max, Min } from 'class-validator';
import { ID_PATTERN, SEARCH_MODES, type SearchMode } from '@app/memory';
import { IsEmbeddableText } from '../common/fits-embedding-input';
import { LIMITS } from '../common/limits';
import { MemoryHit } from '../search-memories/memory-view';

export class ChatDto {
  @ApiProperty({ maxLength: LIMITS.contentChars, example: 'When does my flight leave?' })
  @IsEmbeddableText()
  message: string;

  @ApiPropertyOptional({ description: 'Memories to retrieve (default TOP_K_MEMORIES)', minimum: 1, maximum: LIMITS.k, example: 5 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(LIMITS.k)
  k?: number;

  @ApiPropertyOptional({ description: 'Only memories of the last N hours; 0 is all time (default MEMORY_WINDOW_HOURS, 0)', maximum: LIMITS.windowHours, example: 0 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(LIMITS.windowHours)
  windowHours?: number;

  @ApiPropertyOptional({ description: 'The user the session belongs to (as on turn writes)', pattern: ID_PATTERN.source, example: 'alice' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;

  @ApiPropertyOptional({ enum: SEARCH_MODES, default: 'hybrid', description: 'How memories are retrieved: hybrid (full text and vectors fused), vector or text' })
  @IsOptional()
  @IsIn(SEARCH_MODES)
  mode?: SearchMode;
}

/** Milliseconds per step of the cycle; write and read overlap, so they need not add up to e2e. */
export class ChatTimings {
  @ApiProperty()
  write: number;

  @ApiProperty()
  read: number;

  @ApiProperty()
  assemble: number;

  @ApiProperty()
  llm: number;

  @ApiProperty()
  e2e: number;
}

export class ChatResponse {
  @ApiProperty()
  reply: string;

  @ApiProperty({ description: 'Which LLM answered', example: 'offline extractive responder' })
  responder: string;

  @ApiProperty({ type: [MemoryHit], description: 'The memories retrieved for the message and shown to the LLM (as a memory or a recent turn), best first' })
  memories: MemoryHit[];

  @ApiProperty({ description: 'o200k tokens of the memory context sent to the LLM' })
  contextTokens: number;

  @ApiProperty({ description: 'Memories and recent turns left out of the context because they did not fit' })
  dropped: number;

  @ApiProperty({ type: ChatTimings, description: 'ms per step' })
  timings: ChatTimings;

  @ApiPropertyOptional({ description: "Set when the LLM failed and the reply lists the memories instead: the provider error's kind" })
  degraded?: string;
}
