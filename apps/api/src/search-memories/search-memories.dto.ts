import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  Matches,
  Max,
  Min,
  } from 'class-validator';
import type { MemoryKind, Role, SearchMode } from '@app/memory';
import { ID_PATTERN, MEMORY_KINDS, ROLES, SEARCH_MODES, TAG_PATTERN } from '@app/memory';
import { LIMITS } from '../common/limits';
import { IsEmbeddableText } from '../common/fits-embedding-input';
import { IsTimestamp } from '../common/timestamp';
import { MemoryHit } from './memory-view';

/** The text a search looks for, as `q` in a query string or `query` in a body. */
const IsQueryText = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ description: 'The text to find related memories for', example: 'When does my flight leave?' }),
    IsEmbeddableText(),
  );

/** How many memories, above which score, ranked how: the same on every search. */
export class RankOptions {
  @ApiPropertyOptional({ description: 'Memories to return (default TOP_K_MEMORIES)', minimum: 1, maximum: LIMITS.k, example: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIMITS.k)
  k?: number;

  @ApiPropertyOptional({ description: 'Leave out memories scoring below this', minimum: -1, maximum: 1, example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(-1)
  @Max(1)
  minScore?: number;

  @IsOptional()
  @IsTimestamp('The time that relative dates in the query ("last week", "in March") are read against; default now', '2024-06-15T12:00:00Z')
  asOf?: number;

  @ApiPropertyOptional({ description: 'Each turn hit carries up to this many turns before and after it (shown beside it, not counted as hits)', minimum: 0, maximum: LIMITS.neighbours, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LIMITS.neighbours)
  neighbours?: number;

  @ApiPropertyOptional({ enum: SEARCH_MODES, default: 'hybrid', description: 'hybrid: the full-text (BM25) and vector rankings fused; vector; text' })
  @IsOptional()
  @IsIn(SEARCH_MODES)
  mode?: SearchMode;

  @ApiPropertyOptional({
    enum: MEMORY_KINDS,
    isArray: true,
    description: 'turn: stored turns; memory: long-term memories extracted from them (default both; a roles or tags filter means turns only). In a query string: kinds=turn,memory',
    example: ['turn', 'memory'],
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value))
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MEMORY_KINDS.length)
  @IsIn(MEMORY_KINDS, { each: true })
  kinds?: MemoryKind[];
}

const SINCE = ['Only turns at or after this time', '2024-05-01T00:00:00Z'] as const;
const UNTIL = ['Only turns at or before this time', '2030-01-01T00:00:00Z'] as const;

export class SearchMemoriesQuery extends RankOptions {
  @IsOptional()
  @IsTimestamp(...SINCE, 'query')
  since?: number;

  @IsOptional()
  @IsTimestamp(...UNTIL, 'query')
  until?: number;

  @IsQueryText()
  q: string;

  @ApiPropertyOptional({ description: 'Only turns of the last N hours (instead of since); 0 is all time; absent, with no since or until, MEMORY_WINDOW_HOURS (default 0)', maximum: LIMITS.windowHours })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(LIMITS.windowHours)
  windowHours?: number;

  @ApiPropertyOptional({ enum: ROLES, description: 'Only turns of this role', example: 'user' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Only turns carrying this tag', pattern: TAG_PATTERN.source, example: 'travel' })
  @IsOptional()
  @Matches(TAG_PATTERN, { message: `tag must match ${TAG_PATTERN.source}` })
  tag?: string;
}

export class SearchAllMemoriesBody extends RankOptions {
  /** Both bounds are inclusive; none means all time. */
  @IsOptional()
  @IsTimestamp(...SINCE)
  since?: number;

  @IsOptional()
  @IsTimestamp(...UNTIL)
  until?: number;

  @IsQueryText()
  query: string;

  @ApiPropertyOptional({ description: "Only this user's turns, across all of the user's sessions", pattern: ID_PATTERN.source, example: 'alice' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;

  @ApiPropertyOptional({ type: [String], maxItems: LIMITS.sessionIds, description: 'Only these sessions (default: all of the tenant\'s)', example: ['support-42'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.sessionIds)
  @Matches(ID_PATTERN, { each: true, message: `each session id must match ${ID_PATTERN.source}` })
  sessionIds?: string[];

  @ApiPropertyOptional({ enum: ROLES, isArray: true, description: 'Only turns of these roles', example: ['user'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(ROLES.length)
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional({ type: [String], maxItems: LIMITS.tags, description: 'Only turns carrying any of these tags', example: ['travel'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.tags)
  @Matches(TAG_PATTERN, { each: true, message: `each tag must match ${TAG_PATTERN.source}` })
  tags?: string[];
}

/** The time bounds a search applied: null is unbounded. */
export class AppliedWindow {
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  since: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  until: string | null;
}

export class SearchTimings {
  @ApiProperty({ description: 'ms before the retrieval job was queued (validation done; read-your-writes positions)' })
  prepare: number;

  @ApiProperty({ description: 'ms of the job round trip that the retriever did not spend embedding or searching (queueing, pickup, reply)' })
  queue: number;

  @ApiProperty({ description: 'ms embedding the query' })
  embed: number;

  @ApiProperty({ description: 'ms searching and ranking' })
  search: number;

  @ApiProperty({ description: 'ms in the API, end to end' })
  total: number;
}

export class SearchMemoriesResponse {
  @ApiProperty({ type: [MemoryHit], description: 'Best first' })
  memories: MemoryHit[];

  @ApiProperty({ type: AppliedWindow })
  window: AppliedWindow;

  @ApiProperty({ type: SearchTimings })
  timings: SearchTimings;

  @ApiProperty({ description: 'The id of the embedding generation the search ran in: the query and every hit come from that one (see GET /v1/admin/reindex)', example: '3f2a9c0b51d4' })
  generation: string;
}
