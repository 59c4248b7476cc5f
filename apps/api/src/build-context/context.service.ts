import { Injectable } from '@nestjs/common';
import { InvalidInputError, MemoryConfig, MemoryStore } from '@app/memory';
import { MemorySearchService } from '../search-memories/memory-search.service';
import { toMemoryHit } from '../search-memories/memory-view';
import type { ContextBody, ContextResponse } from './context.dto';

/**
 * The memory context for an agent's next LLM call: the preamble, the session summary, relevant memories and the
 * session's latest turns, within a budget (assembled by the retriever: see buildMemoryContext).
 */
@Injectable()
export class ContextService {
  constructor(
    private readonly memories: MemorySearchService,
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
  ) {}

  async build(tenant: string, session: string, { query, maxTokens, recentTurns, scope, includeSummary, ...rank }: ContextBody): Promise<ContextResponse> {
    const user = scope === 'user' ? await this.store.sessionUser(tenant, session) : undefined;
    if (scope === 'user' && !user) throw new InvalidInputError(`session ${session} belongs to no user: scope "user" needs a session written with a userId`);
    const { result } = await this.memories.retrieve(
      tenant,
      { ...rank, query, ...(user ? { users: [user] } : { sessions: [session] }) },
      { assemble: { session, recentTurns: recentTurns ?? this.config.RECENT_TURNS, maxTokens: maxTokens ?? this.config.MAX_CONTEXT_TOKENS, summary: includeSummary ?? true } },
    );
    const { messages, text, tokens, dropped, droppedParts, summary, included } = result.context!;
    const shown = new Set(included);
    const memories = result.memories.filter((m) => shown.has(m.key)).map(toMemoryHit);
    return { messages, text, tokens, memories, ...(summary ? { summary } : {}), dropped, droppedParts };
  }
}
