import { ApiProperty } from '@nestjs/swagger';
import type { SummaryVersion } from '@app/memory';
import { toIso } from '../common/timestamp';

export class SummaryVersionView {
  @ApiProperty({ description: 'The summary of the session up to toSeq (it folds in the versions before it)' })
  text: string;

  @ApiProperty({ description: 'The first seq of the turns the summary covers' })
  fromSeq: number;

  @ApiProperty({ description: 'The last seq of the turns the summary covers' })
  toSeq: number;

  @ApiProperty({ description: 'The first seq of the turns this version added to the one before it' })
  addedFromSeq: number;

  @ApiProperty({ description: 'How many turns this version added' })
  addedTurns: number;

  @ApiProperty({ format: 'date-time', example: '2024-05-01T09:00:00.000Z' })
  createdAt: string;
}

export class SessionSummaryView {
  @ApiProperty()
  sessionId: string;

  @ApiProperty({ type: SummaryVersionView, nullable: true, description: 'The current summary (null: none yet, or every version covered a forgotten turn)' })
  current: SummaryVersionView | null;

  @ApiProperty({ description: "The session's turns up to this seq are summarised (0: none)" })
  watermark: number;

  @ApiProperty({ type: [SummaryVersionView], description: 'The versions kept (SUMMARY_MAX_VERSIONS), newest first; the first is the current one' })
  versions: SummaryVersionView[];
}

export const toSummaryVersionView = (v: SummaryVersion): SummaryVersionView => ({ ...v, createdAt: toIso(v.createdAt)! });
