import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { type Role, ROLES } from '@app/memory';
import { LIMITS } from '../common/limits';
import { MemoryHit } from '../search-memories/memory-view';
import { RankOptions } from '../search-memories/search-memories.dto';

export const CONTEXT_SCOPES = ['session', 'user'] as const;
export type ContextScope = (typeof CONTEXT_SCOPES)[number];

export class ContextBody extends RankOptions {
  @ApiProperty({ description: 'The message the context is for (usually the user message about to be answered)', example: 'When does my flight leave?' })
  @IsString()
  @MinLength(1)
  @MaxLength(LIMITS.contentChars)
  query: string;

  @ApiPropertyOptional({ description: 'Token budget for the messages (o200k; default MAX_CONTEXT_TOKENS)', minimum: 1, maximum: LIMITS.maxTokens, example: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIMITS.maxTokens)
  maxTokens?: number;

  @ApiPropertyOptional({ description: "The session's latest turns to include (default RECENT_TURNS)", minimum: 0, maximum: LIMITS.recentTurns, example: 4 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LIMITS.recentTurns)
  recentTurns?: number;

  @ApiPropertyOptional({ enum: CONTEXT_SCOPES, default: 'session', description: "Where memories come from: this session, or all sessions of the session's user" })
  @IsOptional()
  @IsIn(CONTEXT_SCOPES)
  scope?: ContextScope;
}

export class ChatMessage {
  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty()
  content: string;
}

export class ContextResponse {
  @ApiProperty({ type: [ChatMessage], description: 'A system message with the relevant memories, then the recent turns, oldest first: ready for an OpenAI-style chat call (append the new user message)' })
  messages: ChatMessage[];

  @ApiProperty({ description: 'The same memories and recent turns as one markdown text' })
  text: string;

  @ApiProperty({ description: 'o200k tokens of text' })
  tokens: number;

  @ApiProperty({ type: [MemoryHit], description: 'The memories retrieved, best first' })
  memories: MemoryHit[];

  @ApiProperty({ description: 'Memories and recent turns left out because they did not fit the budget' })
  dropped: number;
}
