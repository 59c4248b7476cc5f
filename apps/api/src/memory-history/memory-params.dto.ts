import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { MEMORY_ID_PATTERN } from '@app/memory';

export class MemoryParams {
  @ApiProperty({ pattern: MEMORY_ID_PATTERN.source, example: 'u.alice.Qx3v9kT0aLm2Pq7s' })
  @Matches(MEMORY_ID_PATTERN, { message: `memoryId must match ${MEMORY_ID_PATTERN.source}` })
  memoryId: string;
}
