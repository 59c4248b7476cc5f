import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ExtractJob, extractDedupId, extractJobId, extractionEnabled, JOBS, MemoryConfig, QUEUES } from '@app/memory';

/**
 * Feeds the extractor after turns are stored: per session, one extraction job at a time (BullMQ deduplication on the
 * session, `keepLastIfActive` so a turn stored while one runs gets a job after it). The job waits EXTRACT_QUIET_MS,
 * and every new turn puts it off again (`reschedule`: a debounce), except that every EXTRACT_AFTER_TURNS-th turn of
 * the session makes it due at once. The job reads the turns past the session's watermark when it runs, so however
 * the adds fold together, every stored turn is extracted once.
 */
@Injectable()
export class ExtractFeed {
  private readonly logger = new Logger('ExtractFeed');
  private readonly enabled: boolean;

  constructor(
    @InjectQueue(QUEUES.extract) private readonly queue: Queue<ExtractJob>,
    private readonly config: MemoryConfig,
  ) {
    this.enabled = extractionEnabled(config);
  }

  /**
   * Queues the sessions' extractions without being waited for: the embed job's result (the API's acknowledgement)
   * never waits on it, and a failed add only delays the session's extraction until its next stored turn.
   */
  stored(turns: { tenant: string; session: string; seq: number }[]): void {
    if (!this.enabled || turns.length === 0) return;
    const sessions = new Map<string, { tenant: string; session: string; seq: number; due: boolean }>();
    for (const t of turns) {
      const at = extractDedupId(t.tenant, t.session);
      const s = sessions.get(at) ?? { ...t, due: false };
      s.seq = Math.max(s.seq, t.seq);
      s.due ||= t.seq % this.config.EXTRACT_AFTER_TURNS === 0;
      sessions.set(at, s);
    }
    for (const [dedup, s] of sessions) {
      this.queue
        .add(JOBS.extract, { tenant: s.tenant, session: s.session }, {
          jobId: extractJobId(s.tenant, s.session, s.seq),
          delay: s.due ? 0 : this.config.EXTRACT_QUIET_MS,
          deduplication: { id: dedup, reschedule: true, keepLastIfActive: true },
        })
        .catch((err: Error) => this.logger.warn(`extraction of ${s.tenant}/${s.session} not queued (its next turn queues it): ${err.message}`));
    }
  }
}
