import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ID_PATTERN, SEARCH_MODES, type RetrievedMemory, type SearchMode } from '@app/memory';
import { FitsEmbeddingInput } from '../common/fits-embedding-input';
import { LIMITS } from '../common/limits';

export class ChatDto {
  @ApiProperty({ maxLength: LIMITS.contentChars })
  @IsString()
  @MinLength(1)
  @MaxLength(LIMITS.contentChars)
  @FitsEmbeddingInput()
  message: string;

  @ApiPropertyOptional({ description: 'Memories to retrieve (default TOP_K_MEMORIES)', maximum: LIMITS.k })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(LIMITS.k)
  k?: number;

  @ApiPropertyOptional({ description: 'Recency window in hours (default MEMORY_WINDOW_HOURS)' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(LIMITS.windowHours)
  windowHours?: number;

  @ApiPropertyOptional({ description: 'The user the session belongs to (as on turn writes)', pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;

  @ApiPropertyOptional({ enum: SEARCH_MODES, description: 'How memories are retrieved (default hybrid)' })
  @IsOptional()
  @IsIn(SEARCH_MODES)
  mode?: SearchMode;
}

/** Milliseconds per step of the cycle; write and read overlap, so they need not add up to e2e. */
export interface ChatTimings {
  write: number;
  read: number;
  assemble: number;
  llm: number;
  e2e: number;
}

export type MemoryView = Omit<RetrievedMemory, 'key'>;

export interface ChatResponse {
  reply: string;
  responder: string;
  memories: MemoryView[];
  contextTokens: number;
  dropped: number;
  timings: ChatTimings;
  /** Set when the LLM failed and the reply lists the memories instead: the provider error's kind. */
  degraded?: string;
}
