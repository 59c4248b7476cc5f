import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ID_PATTERN } from '@app/memory';

export class SessionParams {
  @ApiProperty({ pattern: ID_PATTERN.source, example: 'support-42' })
  @Matches(ID_PATTERN, { message: `sessionId must match ${ID_PATTERN.source}` })
  sessionId: string;
}
