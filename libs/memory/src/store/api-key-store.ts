import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../redis/create-redis';
import type { MemoryConfig } from '../config/memory-config';
import { assertId, KeySchema } from '../redis/key-schema';

const digest = (key: string) => createHash('sha256').update(key).digest();

/** API_KEYS as tenant/key pairs; a key may itself contain ':' (only the first one separates). */
export function parseApiKeys(value: string | undefined): { tenant: string; key: string }[] {
  return (value ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      return { tenant: pair.slice(0, at), key: pair.slice(at + 1) };
    });
}

/**
 * API keys and their tenants: from API_KEYS, then from Redis (issued with `npm run cli -- keys issue`).
 * Only SHA-256 digests are kept or compared; a key itself is never stored.
 */
export class ApiKeyStore {
  private readonly configured: { digest: Buffer; tenant: string }[];

  constructor(
    config: MemoryConfig,
    private readonly redis: RedisClient,
    private readonly keys: KeySchema,
  ) {
    this.configured = parseApiKeys(config.API_KEYS).map(({ tenant, key }) => ({ tenant, digest: digest(key) }));
  }

  get configuredCount(): number {
    return this.configured.length;
  }

  /** The tenant of a key, or undefined. Configured keys are compared in constant time, all of them every time. */
  async tenantOf(key: string): Promise<string | undefined> {
    const presented = digest(key);
    let tenant: string | undefined;
    for (const entry of this.configured) {
      if (timingSafeEqual(entry.digest, presented)) tenant = entry.tenant;
    }
    return tenant ?? (await this.redis.hget(this.keys.apiKeys, presented.toString('hex'))) ?? undefined;
  }

  /** Issues a new key for a tenant and stores its digest; the key is returned once and never again. */
  async issue(tenant: string): Promise<string> {
    const key = `am_${randomBytes(24).toString('base64url')}`;
    await this.redis.hset(this.keys.apiKeys, digest(key).toString('hex'), assertId('tenant', tenant));
    return key;
  }

  async revoke(key: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.apiKeys, digest(key).toString('hex'))) === 1;
  }
}
