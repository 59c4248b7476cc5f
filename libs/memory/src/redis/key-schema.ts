import { InvalidInputError } from '../errors/invalid-input.error';

/** Tenant and session ids: no separators, wildcards, quotes or query syntax can get through. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function assertId(kind: 'tenant' | 'session', value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new InvalidInputError(`${kind} id must match ${ID_PATTERN.source}`);
  }
  return value;
}

/**
 * Every Redis key the service uses, in one place.
 *
 * Turn hashes live under `{prefix}:` (the only keys a RediSearch index covers):
 *   {prefix}:{tenant}:{session}:turn:{seq}
 * Bookkeeping lives under `{prefix}-sys:` so that it is never indexed:
 *   {prefix}-sys:{tenant}:{session}:seq     counter of accepted turns (kept when the session is forgotten)
 *   {prefix}-sys:{tenant}:{session}:forgotten  the seq counter's value when the session was last forgotten
 *   {prefix}-sys:{tenant}:{session}:turns   ZSET seq -> seq, the history in order
 *   {prefix}-sys:{tenant}:{session}:ids     HASH turnId -> seq, for idempotent writes
 *   {prefix}-sys:{tenant}:sessions          SET of the tenant's sessions
 *   {prefix}-sys:changelog                  STREAM of adds and deletes, followed by in-process indexes
 *   {prefix}-sys:apikeys                    HASH sha256(api key) -> tenant
 */
export class KeySchema {
  readonly turnPrefix: string;
  private readonly sys: string;

  constructor(readonly prefix = 'mem') {
    this.turnPrefix = `${prefix}:`;
    this.sys = `${prefix}-sys:`;
  }

  turn(tenant: string, session: string, seq: number): string {
    return `${this.sessionTurns(tenant, session)}${seq}`;
  }

  /** Prefix of every turn key of one session. */
  sessionTurns(tenant: string, session: string): string {
    return `${this.turnPrefix}${assertId('tenant', tenant)}:${assertId('session', session)}:turn:`;
  }

  seq(tenant: string, session: string): string {
    return `${this.sessionSys(tenant, session)}seq`;
  }

  forgotten(tenant: string, session: string): string {
    return `${this.sessionSys(tenant, session)}forgotten`;
  }

  history(tenant: string, session: string): string {
    return `${this.sessionSys(tenant, session)}turns`;
  }

  turnIds(tenant: string, session: string): string {
    return `${this.sessionSys(tenant, session)}ids`;
  }

  sessions(tenant: string): string {
    return `${this.sys}${assertId('tenant', tenant)}:sessions`;
  }

  get changelog(): string {
    return `${this.sys}changelog`;
  }

  get apiKeys(): string {
    return `${this.sys}apikeys`;
  }

  /** Name of the RediSearch index over the turn hashes. */
  get searchIndex(): string {
    return `${this.prefix}-idx`;
  }

  private sessionSys(tenant: string, session: string): string {
    return `${this.sys}${assertId('tenant', tenant)}:${assertId('session', session)}:`;
  }
}
