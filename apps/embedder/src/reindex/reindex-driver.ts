import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { describeGeneration, GenerationRecord, GenerationStore, JOBS, MemoryConfig, MemoryStore, QUEUES, ReindexJob } from '@app/memory';
import { LOWEST_PRIORITY } from '@app/memory/queues/job-options';
import { settleMs } from './reindex-batch.service';


/**
 * Drives a re-index from one embedder at a time (a lease in Redis; another takes over when its holder dies). It
 * queues the next batch job when the last is done, at most REINDEX_RATE hashes a second; everything it needs is in the
 * generation record, so a killed re-index resumes from its cursor. After the switch and REINDEX_GRACE_MS it drops the
 * previous generation, and deletes a dropped generation's vectors once no process writes them any more.
 */
@Injectable()
export class ReindexDriver implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Reindex');
  private readonly owner = randomUUID();
  private timer?: NodeJS.Timeout;
  private running = false;
  private nextBatchAt = 0;

  constructor(
    @InjectQueue(QUEUES.embed) private readonly queue: Queue<ReindexJob>,
    private readonly generations: GenerationStore,
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), Math.min(200, this.config.GENERATION_POLL_MS));
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const record = await this.generations.read();
      if (!record || (!record.state && !record.drop)) return;
      if (!(await this.generations.lease(this.owner, 10 * this.config.GENERATION_POLL_MS))) return;
      await this.step(record);
    } catch (err) {
      // The next tick tries again: everything is re-read from Redis.
      this.logger.warn(`re-index step failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private async step(record: GenerationRecord): Promise<void> {
    const now = Date.now();
    if (record.state === 'building') return this.queueBatch(record, now);
    if (record.state === 'switched' && now - record.switched! >= this.config.REINDEX_GRACE_MS) {
      const dropped = await this.generations.end('finish');
      if (dropped) this.logger.log(`re-index done: ${describeGeneration(record.active)} is the only generation; dropping ${describeGeneration(dropped)}`);
      return;
    }
    if (record.drop && now - record.dropSince! >= settleMs(this.config)) {
      await this.store.dropField(record.drop.field);
      await this.generations.dropped(record.drop);
      this.logger.log(`deleted the vectors of ${describeGeneration(record.drop)}`);
    }
  }

  /** The batch at the record's cursor, once (its job id names the run, the pass and the cursor). */
  private async queueBatch(record: GenerationRecord, now: number): Promise<void> {
    if (now < this.nextBatchAt) return;
    const target = record.target!;
    const cursor = record.cursor ?? '';
    const jobId = `reindex.${target.id}.${record.started}.${record.pass}.${cursor.replace(':', '-') || 'start'}`;
    const existing = await this.queue.getJob(jobId);
    if (existing && !(await existing.isFailed())) return;
    await existing?.remove();
    await this.queue.add(JOBS.reindex, { generation: target.fingerprint, cursor }, { jobId, priority: LOWEST_PRIORITY });
    this.nextBatchAt = now + (1000 * this.config.REINDEX_BATCH) / this.config.REINDEX_RATE;
  }
}
