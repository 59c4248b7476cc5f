import { Injectable } from '@nestjs/common';
import { MemoryStore } from '@app/memory';
import { JobGateway } from '../common/job-gateway';

export interface ForgottenTurn {
  turnId: string;
  seq: number;
  /** 'stored': deleted from the store and the index; 'queued': accepted but not stored yet, and now never will be. */
  state: 'stored' | 'queued';
}

/** Forgets one turn by the id it was written with. */
@Injectable()
export class ForgetTurnService {
  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
  ) {}

  /** Null when the session has no turn of that id. */
  async forget(tenant: string, session: string, turnId: string): Promise<ForgottenTurn | null> {
    const result = await this.store.deleteTurn(tenant, session, turnId);
    if (result.state === 'unknown') return null;
    // A queued turn's job goes too (an active one finds no pending entry and is dropped when it writes).
    if (result.state === 'pending') await this.store.release(tenant, await this.jobs.removeTurnJobs(tenant, session, [{ turnId, seq: result.seq }]));
    return { turnId, seq: result.seq, state: result.state === 'stored' ? 'stored' : 'queued' };
  }
}
