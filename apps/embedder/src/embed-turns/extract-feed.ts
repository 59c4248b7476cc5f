import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ExtractJob, extractDedupId, extractJobId, extractionEnabled, JOBS, MemoryConfig, QUEUES, summariseDedupId, summariseJobId } from '@app/memory';

/**
 * Feeds the extractor after turns are stored: per session, one extraction job at a time (BullMQ deduplication on the
 * session, `keepLastIfActive` so a turn stored while one runs gets a job after it). The job waits EXTRACT_QUIET_MS,
 * and every new turn puts it off again (`reschedule`: a debounce), except that every EXTRACT_AFTER_TURNS-th turn of
 * the session makes it due at once. The job reads the turns past the session's watermark when it runs, so however
 * the adds fold together, every stored turn is extracted once. The session's summary job is queued the same way,
 * under a deduplication id of its own.
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
    for (const s of sessions.values()) {
      const jobs = [
        { name: JOBS.extract, what: 'extraction', jobId: extractJobId(s.tenant, s.session, s.seq), dedup: extractDedupId(s.tenant, s.session) },
        { name: JOBS.summarise, what: 'summary', jobId: summariseJobId(s.tenant, s.session, s.seq), dedup: summariseDedupId(s.tenant, s.session) },
      ];
      for (const job of jobs) {
        this.queue
          .add(job.name, { tenant: s.tenant, session: s.session }, {
            jobId: job.jobId,
            delay: s.due ? 0 : this.config.EXTRACT_QUIET_MS,
            deduplication: { id: job.dedup, reschedule: true, keepLastIfActive: true },
          })
          .catch((err: Error) => this.logger.warn(`${job.what} of ${s.tenant}/${s.session} not queued (its next turn queues it): ${err.message}`));
      }
    }
  }
}
