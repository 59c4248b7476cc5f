import { ApiProperty } from '@nestjs/swagger';
import { MEMORY_TYPES, type MemorySource, type MemoryType, type MemoryVersion, type StoredMemory } from '@app/memory';
import { toIso } from '../common/timestamp';

export class MemorySourceView {
  @ApiProperty({ example: 'support-42' })
  sessionId: string;

  @ApiProperty({ example: 'msg:1' })
  turnId: string;
}

/** The fields every version of a memory has. */
class MemoryFields {
  @ApiProperty({ example: 'The user is vegetarian.' })
  content: string;

  @ApiProperty({ enum: MEMORY_TYPES })
  type: MemoryType;

  @ApiProperty({ type: [String], example: ['vegetarian'] })
  entities: string[];

  @ApiProperty({ type: [MemorySourceView], description: 'The turns it was extracted from' })
  sources: MemorySourceView[];

  @ApiProperty({ format: 'date-time', description: 'Since when this version holds' })
  validFrom: string;
}

/** A long-term memory extracted from turns. */
export class MemoryView extends MemoryFields {
  @ApiProperty({ example: 'u.alice.Qx3v9kT0aLm2Pq7s' })
  memoryId: string;

  @ApiProperty({ type: String, nullable: true, description: 'The user it belongs to (null: a session without a user)' })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The session it belongs to, when that session has no user' })
  sessionId: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class MemoryVersionView extends MemoryFields {
  @ApiProperty({ format: 'date-time', description: 'When it stopped being true' })
  validUntil: string;

  @ApiProperty({ enum: ['update', 'delete'], description: 'update: superseded by the next version; delete: no longer true' })
  change: 'update' | 'delete';
}

/** The fields a memory and its versions share, as clients see them. */
const fieldsView = (v: Pick<MemoryVersion, 'content' | 'type' | 'entities' | 'sources' | 'validFrom'>): MemoryFields => ({
  content: v.content,
  type: v.type,
  entities: v.entities,
  sources: v.sources.map((s: MemorySource) => ({ sessionId: s.session, turnId: s.turnId })),
  validFrom: toIso(v.validFrom)!,
});

export const toMemoryView = (m: StoredMemory): MemoryView => ({
  memoryId: m.id,
  userId: m.scope.kind === 'user' ? m.scope.id : null,
  sessionId: m.scope.kind === 'session' ? m.scope.id : null,
  ...fieldsView(m),
  createdAt: toIso(m.createdAt)!,
});

export const toVersionView = (v: MemoryVersion): MemoryVersionView => ({ ...fieldsView(v), validUntil: toIso(v.validUntil)!, change: v.change });
