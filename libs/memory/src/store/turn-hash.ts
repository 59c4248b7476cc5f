import { type MemorySource, type MemoryType, ROLES, type Role, type StoredTurn, type TurnBrief, TURN_FIELDS as F } from './turn';

/** The hash fields a turn or an extracted memory is read from (everything but the embedding), in the order parseTurnHash takes them. */
export const TURN_READ_FIELDS = [
  F.tenant, F.session, F.seq, F.turnId, F.role, F.content, F.timestamp, F.tokenCount, F.user, F.tags, F.metadata,
  F.kind, F.memoryType, F.entities, F.sources, F.eventAt, F.speaker,
] as const;

/** The one parser of turn hashes: values in TURN_READ_FIELDS order (null when absent); null when it is no turn (deleted). */
export function parseTurnHash(key: string, values: readonly (string | null)[]): StoredTurn | null {
  const [tenant, session, seq, turnId, role, content, timestamp, tokenCount, user, tags, metadata, kind, type, entities, sources, eventAt, speaker] = values;
  // A user's memory belongs to no session.
  const memory = kind === 'memory';
  if (tenant === null || (session === null && !memory) || content === null || !ROLES.includes(role as Role)) return null;
  return {
    key,
    tenant,
    session: session ?? '',
    seq: Number(seq),
    turnId: turnId ?? '',
    role: role as Role,
    content,
    timestamp: Number(timestamp),
    tokenCount: Number(tokenCount),
    ...(eventAt ? { eventAt: Number(eventAt) } : {}),
    ...(speaker ? { speaker } : {}),
    ...(user ? { user } : {}),
    ...(tags ? { tags: tags.split(',') } : {}),
    ...(metadata ? { metadata: JSON.parse(metadata) as Record<string, unknown> } : {}),
    ...(memory
      ? { memory: { id: turnId ?? '', type: type as MemoryType, entities: JSON.parse(entities ?? '[]') as string[], sources: JSON.parse(sources ?? '[]') as MemorySource[] } }
      : {}),
  };
}

/** The hash fields a turn's brief is read from, in the order parseBrief takes them. */
export const BRIEF_FIELDS = [F.session, F.seq, F.timestamp, F.eventAt, F.speaker, F.kind] as const;

/** A turn's brief from its BRIEF_FIELDS values (null when absent), read as parseTurnHash reads them; null when it is no turn. */
export function parseBrief(values: readonly (string | null)[]): TurnBrief | null {
  const [session, seq, timestamp, eventAt, speaker, kind] = values;
  const memory = kind === 'memory';
  if (timestamp === null || (session === null && !memory)) return null;
  return turnBrief({ session: session ?? '', seq: Number(seq), timestamp: Number(timestamp), eventAt: eventAt ? Number(eventAt) : undefined, speaker: speaker || undefined }, memory);
}

/** The brief of a turn (a stored one, or the index's entry of one); an absent date or speaker is left out. */
export function turnBrief({ session, seq, timestamp, eventAt, speaker }: Omit<TurnBrief, 'memory'>, memory: boolean): TurnBrief {
  return { session, seq, timestamp, ...(eventAt !== undefined ? { eventAt } : {}), ...(speaker !== undefined ? { speaker } : {}), memory };
}
