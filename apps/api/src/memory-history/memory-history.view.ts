import { ApiProperty } from '@nestjs/swagger';
import { MemoryVersionView, MemoryView } from '../list-memories/memory-view';

export class MemoryHistoryView {
  @ApiProperty()
  memoryId: string;

  @ApiProperty({ type: MemoryView, nullable: true, description: 'The memory as it is now; null once the extractor deleted it (no longer true)' })
  current: MemoryView | null;

  @ApiProperty({ type: [MemoryVersionView], description: 'Earlier versions, newest first, each with the time it stopped being true' })
  versions: MemoryVersionView[];
}
