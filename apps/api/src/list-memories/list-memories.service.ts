import { Injectable } from '@nestjs/common';
import { extractionEnabled, MemoryConfig, MemoryRepository, MemoryStore } from '@app/memory';
import type { MemoriesPage } from './list-memories.dto';
import { toMemoryView } from './memory-view';

/** Listings of extracted memories: a user's, or those learnt from one session. */
@Injectable()
export class ListMemoriesService {
  constructor(
    private readonly memories: MemoryRepository,
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
  ) {}

  async ofUser(tenant: string, user: string, offset: number, limit: number): Promise<MemoriesPage> {
    return this.page(await this.memories.list({ tenant, kind: 'user', id: user }, offset, limit));
  }

  /** A session with a user: its user's memories derived from it; without: the session's own. */
  async ofSession(tenant: string, session: string, offset: number, limit: number): Promise<MemoriesPage> {
    const user = await this.store.sessionUser(tenant, session);
    const scope = MemoryRepository.scopeOf(tenant, session, user);
    return this.page(await this.memories.list(scope, offset, limit, user === undefined ? undefined : session));
  }

  private page({ total, memories }: Awaited<ReturnType<MemoryRepository['list']>>): MemoriesPage {
    return { memories: memories.map(toMemoryView), total, extraction: extractionEnabled(this.config) };
  }
}
