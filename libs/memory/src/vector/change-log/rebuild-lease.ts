import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../redis/create-redis';
import { type StoreCommands, withStoreCommands } from '../../store/store-commands';

/** How long a lease lasts without renewal: a replica that died mid-rebuild holds the others up this long at most. */
export const LEASE_TTL_MS = 30_000;

/**
 * The repository of the lease that lets one in-process index replica at a time rebuild from Redis. Replicas that
 * rebuilt together after a rollback shared the CPU and Redis, so every one of them took as long as all of them; one
 * at a time, the first is back on a full index after a share of that.
 */
export class RebuildLease {
  private readonly redis: RedisClient & StoreCommands;
  /** This holder's token: only it renews or releases what it took. */
  private readonly token = randomUUID();

  constructor(
    redis: RedisClient,
    readonly key: string,
  ) {
    this.redis = withStoreCommands(redis);
  }

  /** True when this holder took the lease (or already held it). */
  async acquire(): Promise<boolean> {
    if ((await this.redis.set(this.key, this.token, 'PX', LEASE_TTL_MS, 'NX')) === 'OK') return true;
    return (await this.redis.memRenewLease(this.key, this.token, LEASE_TTL_MS)) === 1;
  }

  /** False when the lease expired and may be another's. */
  async renew(): Promise<boolean> {
    return (await this.redis.memRenewLease(this.key, this.token, LEASE_TTL_MS)) === 1;
  }

  async release(): Promise<void> {
    await this.redis.memReleaseLease(this.key, this.token);
  }
}
