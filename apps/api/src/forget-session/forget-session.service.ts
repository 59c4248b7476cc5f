import { Injectable } from '@nestjs/common';
import { MemoryRepository, MemoryStore } from '@app/memory';
import { JobGateway } from '../common/job-gateway';

/**
 * Forgetting: the store drops the turns and bookkeeping, the queues drop the jobs still waiting for the session, and
 * the memories learnt from the session go too.
 */
@Injectable()
export class ForgetSessionService {
  constructor(
    private readonly store: MemoryStore,
    private readonly jobs: JobGateway,
    private readonly memories: MemoryRepository,
  ) {}

  /** Null when the session never accepted a turn. */
  async forget(tenant: string, session: string): Promise<{ deleted: number } | null> {
    const result = await this.store.deleteSession(tenant, session);
    if (!result) return null;
    await Promise.all([
      this.jobs.removeTurnJobs(tenant, session, result.pending).then((removed) => this.store.release(tenant, removed)),
      this.jobs.removeExtractJobs(tenant, session),
      this.memories.forgetSession(tenant, session, result.user, result.lastSeq),
    ]);
    return { deleted: result.deleted };
  }
}
