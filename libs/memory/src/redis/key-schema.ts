import calculateSlot from 'cluster-key-slot';
import { InvalidInputError } from '../errors/invalid-input.error';

/** Tenant, session and user ids: no separators, braces, wildcards, quotes or query syntax can get through. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Client turn ids: any printable text (no control characters), kept only as a hash field, never in a key or job id. */
export const TURN_ID_PATTERN = /^[^\p{Cc}\p{Cs}]{1,128}$/u;

export type IdKind = 'tenant' | 'session' | 'user';

/** Who a long-term memory belongs to: a user, or a session that has none (tenant -> user | session -> memory). */
export interface MemoryScope {
  tenant: string;
  kind: 'user' | 'session';
  id: string;
}

export function assertId(kind: IdKind, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new InvalidInputError(`${kind} id must match ${ID_PATTERN.source}`);
  }
  return value;
}

/** The store layout this code reads and writes; `cli migrate` moves a store from the layout before it. */
export const STORE_LAYOUT = 2;

/**
 * Every Redis key the service uses, in one place. The braces are Redis Cluster hash tags: every key of one session
 * shares a slot (so each session script is single-slot), every tenant-wide key shares the tenant's slot, and each
 * change-log partition has a slot of its own. On a single Redis the tags are just part of the names.
 *
 * Turn hashes live under `{prefix}:` (the only keys a RediSearch index covers):
 *   {prefix}:{T:S}:turn:{seq}
 * and so do long-term memories (in the same index, kind=memory), under their scope: the session's tag when the
 * session has no user, else the user's, {T:@U} ('@' cannot occur in an id, so no session tag equals it):
 *   {prefix}:{scope}:memory:{id}
 * Bookkeeping lives under `{prefix}-sys:` so that it is never indexed:
 *   {prefix}-sys:{T:S}:seq        counter of accepted turns; after a delete it lives on for FORGET_TTL_SECONDS so seqs
 *                                 (and the job ids made from them) are not reused while the session's jobs may run
 *   {prefix}-sys:{T:S}:turns      ZSET seq -> seq, the history in order
 *   {prefix}-sys:{T:S}:ids        HASH turnId -> seq of stored turns (idempotent writes)
 *   {prefix}-sys:{T:S}:pending    HASH turnId -> seq of accepted turns not stored yet; a job writes only if its entry is
 *                                 still there, so deleting the session (or the turn) drops what is still queued
 *   {prefix}-sys:{T:S}:resent     HASH turnId -> how many later requests found the turn pending (and may have been
 *                                 answered): a failed request takes back a pending entry only when no other holds it
 *   {prefix}-sys:{T:S}:meta       HASH user, created, first, last (turn timestamps)
 *   {prefix}-sys:{T:S}:summaries  LIST of the session's rolling summary versions (JSON), newest first
 *   {prefix}-sys:{T:S}:summarised the seq up to which the session's turns are summarised (the newest version's end)
 *   {prefix}-sys:{T}:sessions     ZSET (score 0, by name) of the tenant's sessions
 *   {prefix}-sys:{T}:gens         HASH session -> highest seq registered, so a late unregister never hides a newer life
 *   {prefix}-sys:{T}:user:{U}     ZSET (score 0) of a user's sessions
 *   {prefix}-sys:{scope}:memories  ZSET memory id -> time of its last change, the scope's memories
 *   {prefix}-sys:{scope}:memory:{id}:history  LIST of the memory's earlier versions (JSON), newest first
 *   {prefix}-sys:{scope}:retired   SET of memories the extractor deleted, whose history is still kept
 *   {prefix}-sys:{scope}:unlogged:{S}  LIST of change-log entries of S's last extraction not appended yet
 *   {prefix}-sys:{scope}:extracted:{S}  the seq up to which session S's turns were extracted (its watermark); after
 *                                 S is deleted it lives on for FORGET_TTL_SECONDS, like S's seq counter
 *   {prefix}-sys:{T}:queued       turns accepted and not yet processed (per-tenant load shedding)
 *   {prefix}-sys:changelog:{P}    STREAM partition P of adds and deletes, followed by in-process indexes
 *   {prefix}-sys:changelog:{P}:tenants  HASH tenant -> newest entry of that tenant in P (read-your-writes)
 *   {prefix}-sys:apikeys          HASH sha256(api key) -> tenant
 *   {prefix}-sys:layout           STORE_LAYOUT
 *   {prefix}-sys:generation       HASH the embedding generations: active, and while a re-index runs its target (or,
 *                                 after the switch, the previous one) and progress (see GenerationStore)
 *   {prefix}-sys:generation:lock  the re-index driver's lease (one embedder drives it)
 *   {prefix}-sys:replies:{id}     an API replica's reply channel (pub/sub, no key): waited jobs' results and failures
 *   {prefix}-sys:rebuild-lease    STRING token of the in-process index replica rebuilding now (one at a time), with a TTL
 */
export class KeySchema {
  readonly turnPrefix: string;
  private readonly sys: string;

  constructor(
    readonly prefix = 'mem',
    /** Change-log partitions; a session's entries always go to the same one. */
    readonly partitions = 4,
  ) {
    this.turnPrefix = `${prefix}:`;
    this.sys = `${prefix}-sys:`;
  }

  turn(tenant: string, session: string, seq: number): string {
    return `${this.sessionTurns(tenant, session)}${seq}`;
  }

  /** Prefix of every turn key of one session. */
  sessionTurns(tenant: string, session: string): string {
    return `${this.turnPrefix}${sessionTag(tenant, session)}:turn:`;
  }

  seq(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'seq');
  }

  history(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'turns');
  }

  turnIds(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'ids');
  }

  pending(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'pending');
  }

  resent(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'resent');
  }

  meta(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'meta');
  }

  summaries(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'summaries');
  }

  summarised(tenant: string, session: string): string {
    return this.sessionSys(tenant, session, 'summarised');
  }

  sessions(tenant: string): string {
    return this.tenantSys(tenant, 'sessions');
  }

  gens(tenant: string): string {
    return this.tenantSys(tenant, 'gens');
  }

  userSessions(tenant: string, user: string): string {
    return this.tenantSys(tenant, `user:${assertId('user', user)}`);
  }

  queued(tenant: string): string {
    return this.tenantSys(tenant, 'queued');
  }

  /** Prefix of every memory key of one scope; a memory's key is this plus its id. */
  scopeMemories(scope: MemoryScope): string {
    return `${this.turnPrefix}${scopeTag(scope)}:memory:`;
  }

  memory(scope: MemoryScope, id: string): string {
    return `${this.scopeMemories(scope)}${id}`;
  }

  /** Prefix of the history lists of a scope's memories; a list's key is this plus the id plus ':history'. */
  memoryHistoryPrefix(scope: MemoryScope): string {
    return `${this.sys}${scopeTag(scope)}:memory:`;
  }

  memoryHistory(scope: MemoryScope, id: string): string {
    return `${this.memoryHistoryPrefix(scope)}${id}:history`;
  }

  memoryIndex(scope: MemoryScope): string {
    return `${this.sys}${scopeTag(scope)}:memories`;
  }

  retiredMemories(scope: MemoryScope): string {
    return `${this.sys}${scopeTag(scope)}:retired`;
  }

  unloggedMemories(scope: MemoryScope, session: string): string {
    return `${this.sys}${scopeTag(scope)}:unlogged:${assertId('session', session)}`;
  }

  extracted(scope: MemoryScope, session: string): string {
    return `${this.sys}${scopeTag(scope)}:extracted:${assertId('session', session)}`;
  }

  /** The change-log partition of a scope's entries (a session scope's is its session's). */
  scopePartition(scope: MemoryScope): number {
    return calculateSlot(scopeTag(scope)) % this.partitions;
  }

  /** The partition a session's change-log entries go to: its key slot, so the spread follows Redis's own hashing. */
  partition(tenant: string, session: string): number {
    return calculateSlot(sessionTag(tenant, session)) % this.partitions;
  }

  changelog(partition: number): string {
    return `${this.sys}changelog:{${partition}}`;
  }

  /** Tenant -> its newest entry in the partition. */
  changelogTenants(partition: number): string {
    return `${this.changelog(partition)}:tenants`;
  }

  get allPartitions(): number[] {
    return [...Array(this.partitions).keys()];
  }

  get apiKeys(): string {
    return `${this.sys}apikeys`;
  }

  get layout(): string {
    return `${this.sys}layout`;
  }

  get generation(): string {
    return `${this.sys}generation`;
  }

  get generationLock(): string {
    return `${this.sys}generation:lock`;
  }

  get rebuildLease(): string {
    return `${this.sys}rebuild-lease`;
  }

  /** An API replica's reply channel (pub/sub, not a key): see ReplyChannel. */
  replies(replica: string): string {
    return `${this.sys}replies:${replica}`;
  }

  /** Name of the RediSearch index over the turn hashes; the suffix changes with its schema. */
  get searchIndex(): string {
    return `${this.prefix}-idx-v${STORE_LAYOUT}`;
  }

  /** The RediSearch index of an embedding generation: the first keeps the index it always had. */
  generationIndex(generation: { id: string; field: string }, first: boolean): string {
    return first ? this.searchIndex : `${this.searchIndex}-${generation.id}`;
  }

  /** The tenant and change-log partition of a turn or memory key (by its hash tag), or undefined for any other key. */
  ownerOf(key: string): { tenant: string; partition: number } | undefined {
    const m = /^(\{([A-Za-z0-9_-]{1,64}):@?[A-Za-z0-9_-]{1,64}\}):(turn|memory):/.exec(key.slice(this.turnPrefix.length));
    return key.startsWith(this.turnPrefix) && m ? { tenant: m[2], partition: calculateSlot(m[1]) % this.partitions } : undefined;
  }

  /** Parses a turn key back into its parts, or undefined for any other key. */
  parseTurnKey(key: string): { tenant: string; session: string; seq: number } | undefined {
    const m = /^\{([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{1,64})\}:turn:(\d+)$/.exec(key.slice(this.turnPrefix.length));
    return key.startsWith(this.turnPrefix) && m ? { tenant: m[1], session: m[2], seq: Number(m[3]) } : undefined;
  }

  private sessionSys(tenant: string, session: string, name: string): string {
    return `${this.sys}${sessionTag(tenant, session)}:${name}`;
  }

  private tenantSys(tenant: string, name: string): string {
    return `${this.sys}{${assertId('tenant', tenant)}}:${name}`;
  }
}

const scopeTag = (s: MemoryScope) =>
  s.kind === 'session' ? sessionTag(s.tenant, s.id) : `{${assertId('tenant', s.tenant)}:@${assertId('user', s.id)}}`;

const sessionTag = (tenant: string, session: string) => `{${assertId('tenant', tenant)}:${assertId('session', session)}}`;
