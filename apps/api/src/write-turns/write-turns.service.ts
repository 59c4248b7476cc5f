import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EmbedTurnJob, MemoryStore } from '@app/memory';
import { JobGateway } from '../common/job-gateway';
import { AcceptedTurn, TurnDto } from './turn.dto';

type TurnInput = Pick<TurnDto, 'role' | 'content' | 'timestamp' | 'metadata' | 'id'>;

/** Embed jobs for turns numbered from `first`, in order; a turn without a client id gets a fresh one. */
export function toJobs(tenant: string, session: string, first: number, turns: TurnInput[]): EmbedTurnJob[] {
  const now = Date.now();
  return turns.map((t, i) => ({
    tenant,
    session,
    turnId: t.id ?? randomUUID(),
    seq: first + i,
    role: t.role,
    content: t.content,
    timestamp: t.timestamp ?? now,
    ...(t.metadata ? { metadata: t.metadata } : {}),
  }));
}

/** A client that sends its own ids may be resending a turn whose job failed: that job is retried. */
const mayBeResent = (turns: TurnInput[]) => turns.some((t) => t.id !== undefined);

/** Accepts turns: numbers them in arrival order and hands them to the embedder queue. */
@Injectable()
export class WriteTurnsService {
  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
  ) {}

  private async prepare(tenant: string, session: string, turns: TurnInput[]): Promise<EmbedTurnJob[]> {
    return toJobs(tenant, session, await this.store.reserveSeq(tenant, session, turns.length), turns);
  }

  /** Durable once this resolves (the jobs are in Redis); searchable once the embedder has run. */
  async accept(tenant: string, session: string, turns: TurnDto[]): Promise<AcceptedTurn[]> {
    const jobs = await this.prepare(tenant, session, turns);
    await this.jobs.enqueueTurns(jobs, mayBeResent(turns));
    return jobs.map(({ turnId, seq }) => ({ turnId, seq }));
  }

  /** Resolves once every turn is stored and searchable. */
  async write(tenant: string, session: string, turns: TurnDto[]): Promise<AcceptedTurn[]> {
    const results = await this.jobs.writeTurns(await this.prepare(tenant, session, turns), mayBeResent(turns));
    return results.map(({ turnId, seq, logId }) => ({ turnId, seq, logId }));
  }
}
