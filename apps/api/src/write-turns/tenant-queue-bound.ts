import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { MemoryConfig, MemoryStore, Metrics } from '@app/memory';
import { TenantBusyError } from '../common/tenant-busy.error';

/** How long a tenant's sampled queue count is trusted: one Redis read per tenant per interval, not per request. */
const SAMPLE_MS = 250;

/**
 * Sheds a tenant's writes while too many of its turns wait for the embedder, so one tenant's flood fills its own
 * allowance and not the shared queue. Like the global bound, it can overshoot by one interval's worth of writes.
 */
@Injectable()
export class TenantQueueBound {
  private readonly sampled = new LRUCache<string, number>({ max: 10_000, ttl: SAMPLE_MS });

  constructor(
    private readonly store: MemoryStore,
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Admits `turns` more of the tenant's turns, or throws; returns how many it had queued before them (the sample,
   * plus what this replica admitted since it was taken, so a burst within one interval is counted too).
   */
  async admit(tenant: string, turns: number): Promise<number> {
    let queued = this.sampled.get(tenant);
    if (queued === undefined) {
      queued = await this.store.queued(tenant);
      this.sampled.set(tenant, queued);
    }
    if (queued >= this.config.TENANT_MAX_QUEUED) {
      this.metrics.countTenantShed(tenant, 'queued_turns');
      throw new TenantBusyError(`tenant ${tenant} has ${queued} turns queued (TENANT_MAX_QUEUED ${this.config.TENANT_MAX_QUEUED})`);
    }
    this.sampled.set(tenant, queued + turns, { noUpdateTTL: true });
    return queued;
  }
}
