import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SEARCH_MODES, type SearchMode } from '@app/memory';
import { FitsEmbeddingInput } from '../common/fits-embedding-input';
import { LIMITS } from '../common/limits';

export class SearchMemoriesQuery {
  @ApiProperty({ description: 'The text to find related memories for' })
  @IsString()
  @MinLength(1)
  @MaxLength(LIMITS.contentChars)
  @FitsEmbeddingInput()
  q: string;

  @ApiPropertyOptional({ maximum: LIMITS.k })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIMITS.k)
  k?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(LIMITS.windowHours)
  windowHours?: number;

  @ApiPropertyOptional({ enum: SEARCH_MODES, description: 'hybrid (default): full-text and vector rankings fused; vector; text (BM25)' })
  @IsOptional()
  @IsIn(SEARCH_MODES)
  mode?: SearchMode;
}
