import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { LIMITS } from './limits';

/** The page size of every listing. */
export class PageLimit {
  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: LIMITS.pageSize })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIMITS.pageSize)
  limit = 50;
}
