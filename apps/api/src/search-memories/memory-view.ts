import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEMORY_KINDS, MEMORY_TYPES, type MemoryKind, type MemoryType, type RetrievedMemory, type Role, ROLES } from '@app/memory';
import { toIso } from '../common/timestamp';

/** A memory as clients see it: which turn (or extracted memory) it is, what it says, and how well it matched. */
export class MemoryHit {
  @ApiProperty({
    enum: MEMORY_KINDS,
    description: "turn: a stored turn; memory: a long-term memory extracted from turns (turnId is then the memory's id, seq 0, role system, sessionId '' when it belongs to a user)",
  })
  kind: MemoryKind;

  @ApiPropertyOptional({ enum: MEMORY_TYPES, description: "A memory's type (kind memory only)" })
  memoryType?: MemoryType;

  @ApiPropertyOptional({ type: [String], description: 'The entities a memory names (kind memory only)' })
  entities?: string[];

  @ApiProperty({ description: "The turn's id: the client's own, or the one the API generated", example: 'msg:1' })
  turnId: string;

  @ApiProperty({ example: 'support-42' })
  sessionId: string;

  @ApiProperty({ type: String, nullable: true, description: 'The user the turn was stored for', example: 'alice' })
  userId: string | null;

  @ApiProperty({ description: 'Position in the session, from 1', example: 1 })
  seq: number;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ example: 'My flight to Lisbon leaves on 12 May at 09:40.' })
  content: string;

  @ApiProperty({ format: 'date-time' })
  timestamp: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "The turn's metadata ({} when none)" })
  metadata: Record<string, unknown>;

  @ApiProperty({ type: [String] })
  tags: string[];

  @ApiProperty({ description: '1 - cosine distance to the query' })
  similarity: number;

  @ApiProperty({ description: 'The ranking score: similarity, blended with recency when RECENCY_WEIGHT > 0' })
  score: number;
}

/** Storage keys stay internal; times are ISO 8601. */
export const toMemoryHit = (m: RetrievedMemory): MemoryHit => ({
  kind: m.memory ? 'memory' : 'turn',
  ...(m.memory ? { memoryType: m.memory.type, entities: m.memory.entities } : {}),
  turnId: m.turnId,
  sessionId: m.session,
  userId: m.user ?? null,
  seq: m.seq,
  role: m.role,
  content: m.content,
  timestamp: toIso(m.timestamp)!,
  metadata: m.metadata ?? {},
  tags: m.tags ?? [],
  similarity: m.similarity,
  score: m.score,
});
