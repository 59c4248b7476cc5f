import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ID_PATTERN } from '@app/memory';

export class UserParams {
  @ApiProperty({ pattern: ID_PATTERN.source, example: 'alice' })
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId: string;
}
