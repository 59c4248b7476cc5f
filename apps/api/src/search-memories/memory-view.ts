import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEMORY_KINDS, MEMORY_TYPES, type MemoryKind, type MemoryType, type RetrievedMemory, type Role, ROLES } from '@app/memory';
import { toIso } from '../common/timestamp';

/** A turn shown beside a hit. */
export class NeighbourView {
  @ApiProperty()
  turnId: string;

  @ApiProperty()
  seq: number;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty()
  content: string;

  @ApiProperty({ format: 'date-time' })
  timestamp: string;
}

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

  @ApiProperty({
    description:
      'How well the memory matches the query, on a scale that does not depend on the query (so minScore means the same for every query). ' +
      'vector mode: 1 - cosine distance. text mode: BM25 / (BM25 + 8), in [0, 1). hybrid: HYBRID_TEXT_WEIGHT x textScore + (1 - HYBRID_TEXT_WEIGHT) x vectorScore',
  })
  similarity: number;

  @ApiProperty({ type: Number, nullable: true, description: 'text and hybrid modes: BM25 / (BM25 + 8) of the query words in the turn (and, at half weight, in the turn before it); null when no query word matched' })
  textScore: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'hybrid mode: max(0, cosine similarity); null when the memory was not among the nearest vectors' })
  vectorScore: number | null;

  @ApiProperty({
    description: 'The ranking score: similarity, plus RERANK_DATE_WEIGHT for a turn on a date the query names (half for a dated turn when the query asks "when"), ' +
      'plus RERANK_NEIGHBOUR_WEIGHT x the best similarity of its adjacent turns among the results, plus RERANK_SPEAKER_WEIGHT for a turn whose speaker label ' +
      '("Name: ...") the query names; blended with recency when RECENCY_WEIGHT > 0',
  })
  score: number;

  @ApiPropertyOptional({ type: () => [NeighbourView], description: 'With neighbours=n: the adjacent turns of the session, oldest first (context, not hits)' })
  neighbours?: NeighbourView[];
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
  textScore: m.text ?? null,
  vectorScore: m.vector ?? null,
  score: m.score,
  ...(m.neighbours ? { neighbours: m.neighbours.map((n) => ({ turnId: n.turnId, seq: n.seq, role: n.role, content: n.content, timestamp: toIso(n.timestamp)! })) } : {}),
});
