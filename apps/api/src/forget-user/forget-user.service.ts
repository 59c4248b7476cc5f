import { Injectable } from '@nestjs/common';
import { MemoryStore } from '@app/memory';
import { ForgetSessionService } from '../forget-session/forget-session.service';

/** Sessions forgotten at once while a user is deleted. */
const PAGE = 100;

/** The right to be forgotten: every session of a user goes, as a session DELETE (turns still queued included). */
@Injectable()
export class ForgetUserService {
  constructor(
    private readonly store: MemoryStore,
    private readonly sessions: ForgetSessionService,
  ) {}

  /** Null when the user has no session. */
  async forget(tenant: string, user: string): Promise<{ sessions: number; deleted: number } | null> {
    let sessions = 0;
    let deleted = 0;
    // Paged by name, so a session listed again meanwhile (a new write) cannot keep the loop going.
    for (let after: string | undefined; ; ) {
      const names = await this.store.sessionNames(tenant, { user, after, limit: PAGE });
      if (names.length === 0) break;
      for (const result of await Promise.all(names.map((s) => this.sessions.forget(tenant, s)))) {
        if (!result) continue;
        sessions++;
        deleted += result.deleted;
      }
      after = names[names.length - 1];
    }
    return sessions === 0 ? null : { sessions, deleted };
  }
}
