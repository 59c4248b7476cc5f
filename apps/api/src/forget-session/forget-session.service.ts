import { Injectable } from '@nestjs/common';
import { MemoryStore } from '@app/memory';
import { JobGateway } from '../common/job-gateway';

/** Forgetting: the store drops the turns and bookkeeping, and the queue drops the jobs that still hold their content. */
@Injectable()
export class ForgetSessionService {
  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
  ) {}

  /** Null when the session never accepted a turn. */
  async forget(tenant: string, session: string): Promise<{ deleted: number } | null> {
    const result = await this.store.deleteSession(tenant, session);
    if (!result) return null;
    await this.store.release(tenant, await this.jobs.removeTurnJobs(tenant, session, result.pending));
    return { deleted: result.deleted };
  }
}
