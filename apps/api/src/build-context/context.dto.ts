import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
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

  @ApiPropertyOptional({ default: true, description: "Include the session's rolling summary of its turns before the recent window, when it has one" })
  @IsOptional()
  @IsBoolean()
  includeSummary?: boolean;

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

export class ContextSummaryView {
  @ApiProperty({ description: "The session's rolling summary of its turns before the recent window" })
  text: string;

  @ApiProperty({ description: 'The first seq of the turns it covers' })
  fromSeq: number;

  @ApiProperty({ description: 'The last seq of the turns it covers' })
  toSeq: number;
}

/** What the budget left out, by part of the context. */
export class DroppedParts {
  @ApiProperty({ description: '1 when the preamble (the instructions) did not fit' })
  preamble: number;

  @ApiProperty({ description: '1 when the session summary did not fit' })
  summary: number;

  @ApiProperty({ description: 'Retrieved memories left out' })
  memories: number;

  @ApiProperty({ description: 'Recent turns left out' })
  recent: number;
}

export class ContextResponse {
  @ApiProperty({
    type: [ChatMessage],
    description: 'A system message with the preamble, the session summary and the relevant memories, then the recent turns, oldest first: ready for an OpenAI-style chat call (append the new user message)',
  })
  messages: ChatMessage[];

  @ApiProperty({ description: 'The same preamble, summary, memories and recent turns as one markdown text' })
  text: string;

  @ApiProperty({ description: 'o200k tokens of text, at most maxTokens (the contents of messages add up to at most maxTokens too)' })
  tokens: number;

  @ApiProperty({ type: [MemoryHit], description: 'The memories retrieved and shown in the context (as a memory or a recent turn), best first' })
  memories: MemoryHit[];

  @ApiPropertyOptional({ type: ContextSummaryView, description: 'The session summary shown in the context, if there is one and it fit' })
  summary?: ContextSummaryView;

  @ApiProperty({ description: 'Memories and recent turns left out because they did not fit the budget (none of them is listed in memories)' })
  dropped: number;

  @ApiProperty({ type: DroppedParts, description: 'What the budget left out, by part' })
  droppedParts: DroppedParts;
}
