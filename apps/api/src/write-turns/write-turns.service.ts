import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type AcceptState, ConflictError, MemoryStore } from '@app/memory';
import { JobGateway, type TurnJob } from '../common/job-gateway';
import type { TurnDto } from './turn.dto';
import { TenantQueueBound } from './tenant-queue-bound';

export type TurnInput = Pick<TurnDto, 'role' | 'content' | 'timestamp' | 'metadata' | 'tags' | 'id'>;

export interface WrittenTurn {
  turnId: string;
  seq: number;
  /** How the turn id was found: new, resent while still queued, or resent once stored (then nothing was enqueued). */
  state: AcceptState;
}

/** Accepts turns: numbers them in arrival order (a resent id keeps its number) and hands new ones to the embedder queue. */
@Injectable()
export class WriteTurnsService {
  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
    private readonly bound: TenantQueueBound,
  ) {}

  /**
   * Durable once this resolves (the jobs are in Redis); with a `deadline`, `stored` settles once every turn is
   * stored and searchable. A turn without a client id gets a fresh one.
   */
  async write(
    tenant: string,
    session: string,
    turns: TurnInput[],
    opts: { user?: string; deadline?: number } = {},
  ): Promise<{ turns: WrittenTurn[]; stored?: Promise<unknown> }> {
    await this.bound.admit(tenant);
    const ids = turns.map((t) => t.id ?? randomUUID());
    const accepted = await this.store.accept(tenant, session, ids, opts.user);
    if (accepted.conflict) throw new ConflictError(`session ${session} belongs to user ${accepted.owner}`);
    const now = Date.now();
    const jobs: TurnJob[] = [];
    turns.forEach((t, i) => {
      const { seq, state } = accepted.turns[i];
      if (state === 'stored') return;
      jobs.push({
        resent: state === 'pending',
        data: {
          tenant,
          session,
          turnId: ids[i],
          seq,
          role: t.role,
          content: t.content,
          // The previous turn of the same request, for contextual indexing (the embedder reads it from the store otherwise).
          ...(i > 0 && accepted.turns[i - 1].seq === seq - 1 ? { context: turns[i - 1].content } : {}),
          timestamp: t.timestamp ?? now,
          ...(accepted.user ? { user: accepted.user } : {}),
          ...(t.tags?.length ? { tags: t.tags } : {}),
          ...(t.metadata ? { metadata: t.metadata } : {}),
        },
      });
    });
    const { stored } = await this.jobs.enqueueTurns(jobs, opts.deadline);
    return { turns: ids.map((turnId, i) => ({ turnId, seq: accepted.turns[i].seq, state: accepted.turns[i].state })), stored };
  }
}
