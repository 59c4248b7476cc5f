import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RedisClient } from '../redis/create-redis';
import type { MemoryConfig } from '../config/memory-config';
import { InvalidInputError } from '../errors/invalid-input.error';
import { assertId, KeySchema } from '../redis/key-schema';

/** What a key may do: read (search, list, history, context), write (store, chat, forget), admin (manage keys). */
export const KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** What a key acts for: its tenant, optionally one user of it, and its scopes. */
export interface ApiKeyGrant {
  tenant: string;
  /** Set on a user key: it reaches only this user's sessions, memories and history, and writes only as this user. */
  user?: string;
  scopes: KeyScope[];
}

/** A key issued into Redis, as listed: its digest (its id) and its grant; the key itself is never kept. */
export interface IssuedKey extends ApiKeyGrant {
  id: string;
}

/** Keys from API_KEYS and keys stored before scopes existed: tenant keys with every scope, as they had. */
const fullTenantGrant = (tenant: string): ApiKeyGrant => ({ tenant, scopes: [...KEY_SCOPES] });

const digest = (key: string) => createHash('sha256').update(key).digest();

/** A stored record: JSON, or (stored before scopes existed) the bare tenant id, which never starts with '{'. */
const parseRecord = (value: string): ApiKeyGrant => (value.startsWith('{') ? (JSON.parse(value) as ApiKeyGrant) : fullTenantGrant(value));

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

/** A grant checked for issuing: known scopes, each once, in KEY_SCOPES order; admin only on a tenant key. */
export function checkGrant(grant: ApiKeyGrant): ApiKeyGrant {
  const unknown = grant.scopes.filter((s) => !KEY_SCOPES.includes(s));
  if (unknown.length) throw new InvalidInputError(`unknown scope ${unknown.join(', ')}: scopes are ${KEY_SCOPES.join(', ')}`);
  if (!grant.scopes.length) throw new InvalidInputError('a key needs at least one scope');
  if (grant.user !== undefined && grant.scopes.includes('admin')) throw new InvalidInputError('a user key cannot have the admin scope');
  return {
    tenant: assertId('tenant', grant.tenant),
    ...(grant.user === undefined ? {} : { user: assertId('user', grant.user) }),
    scopes: KEY_SCOPES.filter((s) => grant.scopes.includes(s)),
  };
}

/**
 * API keys and their grants: from API_KEYS, then from Redis (issued with `npm run cli -- keys issue` or POST /v1/keys).
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

  /** The grant of a key, or undefined. Configured keys are compared in constant time, all of them every time. */
  async grantOf(key: string): Promise<ApiKeyGrant | undefined> {
    const presented = digest(key);
    let tenant: string | undefined;
    for (const entry of this.configured) {
      if (timingSafeEqual(entry.digest, presented)) tenant = entry.tenant;
    }
    if (tenant) return fullTenantGrant(tenant);
    const record = await this.redis.hget(this.keys.apiKeys, presented.toString('hex'));
    return record === null ? undefined : parseRecord(record);
  }

  /** Issues a new key and stores its digest; the key is returned once and never again. */
  async issue(grant: ApiKeyGrant): Promise<{ key: string; issued: IssuedKey }> {
    const checked = checkGrant(grant);
    const key = `am_${randomBytes(24).toString('base64url')}`;
    const id = digest(key).toString('hex');
    await this.redis.hset(this.keys.apiKeys, id, JSON.stringify(checked));
    return { key, issued: { id, ...checked } };
  }

  /** Revokes a key issued into Redis, named by the key or by its id (its digest); only the tenant's own with `tenant`. */
  async revoke(keyOrId: string, tenant?: string): Promise<boolean> {
    const id = /^[0-9a-f]{64}$/.test(keyOrId) ? keyOrId : digest(keyOrId).toString('hex');
    if (tenant !== undefined) {
      const record = await this.redis.hget(this.keys.apiKeys, id);
      if (record === null || parseRecord(record).tenant !== tenant) return false;
    }
    return (await this.redis.hdel(this.keys.apiKeys, id)) === 1;
  }

  /** Every key issued into Redis (an operator's listing, from the CLI: it reads them all). */
  async list(): Promise<IssuedKey[]> {
    const all = await this.redis.hgetall(this.keys.apiKeys);
    return Object.entries(all).map(([id, record]) => ({ id, ...parseRecord(record) }));
  }
}
