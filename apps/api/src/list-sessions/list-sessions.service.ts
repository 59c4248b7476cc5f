import { Injectable } from '@nestjs/common';
import { MemoryStore } from '@app/memory';
import { toIso } from '../common/timestamp';
import type { ListSessionsQuery, SessionsPage } from './list-sessions.dto';

/** A page of the tenant's (or one user's) sessions, in id order, with their turn counts and activity. */
@Injectable()
export class ListSessionsService {
  constructor(private readonly store: MemoryStore) {}

  async list(tenant: string, { userId, cursor, limit }: ListSessionsQuery): Promise<SessionsPage> {
    const names = await this.store.sessionNames(tenant, { user: userId, after: cursor, limit });
    const summaries = await this.store.summaries(tenant, names);
    return {
      sessions: summaries.map((s) => ({
        sessionId: s.sessionId,
        userId: s.userId ?? null,
        turns: s.turns,
        createdAt: toIso(s.createdAt)!,
        firstActivity: toIso(s.firstActivity),
        lastActivity: toIso(s.lastActivity),
      })),
      nextCursor: names.length === limit ? names[names.length - 1] : null,
    };
  }
}
