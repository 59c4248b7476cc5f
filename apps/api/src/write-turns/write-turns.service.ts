import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type AcceptState, ConflictError, MemoryConfig, MemoryStore } from '@app/memory';
import { JobGateway, type TurnJob } from '../common/job-gateway';
import { TenantBusyError } from '../common/tenant-busy.error';
import { TurnForgottenError } from '../common/turn-forgotten.error';
import { sessionNotTheirs } from '../auth/access-denied.error';
import type { TurnDto } from './turn.dto';
import { embedPriority } from './embed-priority';

export type TurnInput = Pick<TurnDto, 'role' | 'content' | 'timestamp' | 'metadata' | 'tags' | 'id'>;

export interface WrittenTurn {
  turnId: string;
  seq: number;
  /** How the turn id was found: new, resent while still queued, or resent once stored (then nothing was enqueued). */
  state: AcceptState;
}

/**
 * Accepts turns: numbers them in arrival order (a resent id keeps its number) and hands new ones to the embedder queue.
 * A tenant's queued turns never pass TENANT_MAX_QUEUED (room is reserved atomically with the accept), and a request
 * that fails has accepted nothing.
 */
@Injectable()
export class WriteTurnsService {
  private readonly logger = new Logger('WriteTurns');

  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
    private readonly config: MemoryConfig,
  ) {}

  /**
   * Durable once this resolves (the jobs are in Redis); with a `deadline`, `stored` settles once every turn is
   * stored and searchable. A turn without a client id gets a fresh one. With `answering`, the turns are written only
   * while that turn of the session is still there (TurnForgottenError otherwise). With `userKey` (the request's key is
   * bound to `user`), a session created without a user since the AccessPolicy let the request through is refused as
   * the policy refuses it (403 user_forbidden), atomically with the accept.
   */
  async write(
    tenant: string,
    session: string,
    turns: TurnInput[],
    opts: { user?: string; userKey?: boolean; deadline?: number; answering?: string } = {},
  ): Promise<{ turns: WrittenTurn[]; stored?: Promise<unknown> }> {
    const ids = turns.map((t) => t.id ?? randomUUID());
    const max = this.config.TENANT_MAX_QUEUED;
    const accepted = await this.store.accept(tenant, session, ids, { user: opts.user, userKey: opts.userKey, answering: opts.answering, maxQueued: max });
    if (accepted.status === 'forbidden') throw sessionNotTheirs(opts.user!, session);
    if (accepted.status === 'conflict') throw new ConflictError(`session ${session} belongs to user ${accepted.owner}`);
    if (accepted.status === 'full') throw new TenantBusyError(`tenant ${tenant} has ${accepted.queued} turns queued, and ${ids.length} more would pass TENANT_MAX_QUEUED ${max}`);
    if (accepted.status === 'gone') throw new TurnForgottenError(session, opts.answering!);
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
    let stored: Promise<unknown> | undefined;
    try {
      ({ stored } = await this.jobs.enqueueTurns(jobs, opts.deadline, embedPriority(accepted.queued ?? 0)));
    } catch (err) {
      // Resent turns too: one another request found pending meanwhile stays for it (see MemoryStore.unaccept).
      await this.store.unaccept(tenant, session, jobs.map((j) => ({ turnId: j.data.turnId, seq: j.data.seq }))).catch((undo: Error) => this.logger.warn(`turns of ${tenant}/${session} stay accepted without jobs (a resend enqueues them): ${undo.message}`));
      throw err;
    }
    return { turns: ids.map((turnId, i) => ({ turnId, seq: accepted.turns[i].seq, state: accepted.turns[i].state })), stored };
  }
}
