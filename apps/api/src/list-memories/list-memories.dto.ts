import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';
import { PageLimit } from '../common/page-limit.dto';
import { MemoryView } from './memory-view';

export class ListMemoriesQuery extends PageLimit {
  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset = 0;
}

export class MemoriesPage {
  @ApiProperty({ type: [MemoryView], description: 'Most recently changed first' })
  memories: MemoryView[];

  @ApiProperty({ description: 'Memories in the listing, over all pages' })
  total: number;

  @ApiProperty({ description: 'false with LLM_PROVIDER=local: nothing is extracted, so the listing stays empty' })
  extraction: boolean;
}
