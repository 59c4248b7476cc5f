import { Injectable } from '@nestjs/common';
import { MemoryStore, NotFoundError, SessionSummaryRepository } from '@app/memory';
import { type SessionSummaryView, toSummaryVersionView } from './session-summary.view';

/** A session's rolling summary and its versions; NotFoundError for a session that does not exist. */
@Injectable()
export class SessionSummaryService {
  constructor(
    private readonly store: MemoryStore,
    private readonly summaries: SessionSummaryRepository,
  ) {}

  async summary(tenant: string, session: string): Promise<SessionSummaryView> {
    const [{ exists }, versions, watermark] = await Promise.all([
      this.store.sessionOwner(tenant, session),
      this.summaries.versions(tenant, session),
      this.summaries.watermark(tenant, session),
    ]);
    if (!exists) throw new NotFoundError(`session ${session} does not exist`);
    const views = versions.map(toSummaryVersionView);
    return { sessionId: session, current: views[0] ?? null, watermark, versions: views };
  }
}
