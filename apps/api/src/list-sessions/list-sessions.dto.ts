import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { ID_PATTERN } from '@app/memory';
import { PageLimit } from '../common/page-limit.dto';

export class ListSessionsQuery extends PageLimit {
  @ApiPropertyOptional({ description: "Only this user's sessions", pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `userId must match ${ID_PATTERN.source}` })
  userId?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page', pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `cursor must match ${ID_PATTERN.source}` })
  cursor?: string;
}

export class SessionView {
  @ApiProperty({ example: 'support-42' })
  sessionId: string;

  @ApiProperty({ type: String, nullable: true, description: 'The user the session belongs to' })
  userId: string | null;

  @ApiProperty({ description: 'Stored turns' })
  turns: number;

  @ApiProperty({ format: 'date-time', description: 'When the session accepted its first turn' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Timestamp of its earliest stored turn' })
  firstActivity: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Timestamp of its latest stored turn' })
  lastActivity: string | null;
}

export class SessionsPage {
  @ApiProperty({ type: [SessionView], description: 'In session id order' })
  sessions: SessionView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
