import type { RedisClient } from '../redis/create-redis';
import { KeySchema, type MemoryScope } from '../redis/key-schema';
import { hmgetEach } from '../redis/hmget-each';
import { masters } from '../redis/redis-endpoint';
import { type ReadStep, runOnce, scanKeys } from '../redis/scan-keys';
import { embeddingFields, MEMORY_KINDS, type MemoryKind, Role, StoredTurn, TURN_FIELDS as F, TurnWrite, WriteResult } from './turn';
import { type ScriptArgs, type StoreCommands, withStoreCommands } from './store-commands';
import { parseTurnHash, TURN_READ_FIELDS } from './turn-hash';
import { bufferToVector, vectorToBuffer } from './vector-bytes';

/** A stored turn with its vector, as index rebuilds read it. */
export interface StoredVector {
  key: string;
  /** Absent on turns. */
  kind?: 'memory';
  tenant: string;
  /** '' for a memory of a user scope (it belongs to no one session). */
  session: string;
  user?: string;
  role: Role;
  timestamp: number;
  /** 0 for a memory. */
  seq: number;
  /** Epoch ms of the first date the content names, and its speaker label (see StoredTurn). */
  eventAt?: number;
  speaker?: string;
  tags?: string[];
  embedding: Float32Array;
  /** For the in-process full-text index. */
  content: string;
  /** The previous turn's content, indexed at CONTEXT_TEXT_WEIGHT. */
  context?: string;
}

/** How accept() found each turn id: new (numbered now), still queued from an earlier request, or already stored. */
export type AcceptState = 'new' | 'pending' | 'stored';

export type AcceptResult =
  /** `queued` (with `maxQueued`): the tenant's queued turns once these were reserved. */
  | { status: 'accepted'; user?: string; turns: { seq: number; state: AcceptState }[]; queued?: number }
  /** The session belongs to another user. */
  | { status: 'conflict'; owner: string }
  /** With `userKey`: the session exists and is not the user's (another user's, or one without a user). */
  | { status: 'forbidden' }
  /** The tenant's queued turns plus these would pass `maxQueued`. */
  | { status: 'full'; queued: number }
  /** The turn the request answers was forgotten since (see AcceptOptions.answering). */
  | { status: 'gone' };

export interface AcceptOptions {
  user?: string;
  /**
   * The request's key is bound to `user`: it may create the session or write to its user's, never claim an existing
   * session without a user (as a tenant key's write naming a user does).
   */
  userKey?: boolean;
  /** Accept only while this turn id is still stored or queued (a chat's reply: not into a session deleted meanwhile). */
  answering?: string;
  /** Reserve room for the turns in the tenant's queued count first, all or none, never past this bound. */
  maxQueued?: number;
}

export interface SessionSummary {
  sessionId: string;
  userId?: string;
  turns: number;
  createdAt: number;
  /** Timestamps of the earliest and latest stored turns (absent before the first is stored). */
  firstActivity?: number;
  lastActivity?: number;
}

export interface DeletedSession {
  deleted: number;
  /** The user the session belonged to, and the highest seq it had given (the memories derived from it go too). */
  user?: string;
  lastSeq: number;
  /** Turns accepted but not stored: their jobs should be removed. */
  pending: { turnId: string; seq: number }[];
}

/** A change-log entry: an added turn, a removed turn, or a forgotten session. */
export type LogOp = { op: 'add' | 'rm'; keys: string[] } | { op: 'del'; session: string };

export interface StoreOptions {
  /** Approximate length each change-log partition is trimmed to. */
  changelogMaxLen?: number;
  /** How long a forgotten session's seq counter is kept (seconds). */
  forgetTtlSeconds?: number;
  /** A tenant's queued-turn counter expires this long after its last increment, bounding any drift. */
  queuedTtlSeconds?: number;
}

/**
 * The repository for conversation turns: every read and write of turn data goes through here. Every script touches
 * one hash slot (a session's, a tenant's or a change-log partition's), so the same code runs on Redis Cluster; reads
 * that span sessions are issued together (one round trip per node), never as one multi-slot pipeline.
 */
export class MemoryStore {
  private readonly redis: RedisClient & StoreCommands;
  private readonly changelogMaxLen: number;
  private readonly forgetTtl: number;
  private readonly queuedTtl: number;

  constructor(
    redis: RedisClient,
    readonly keys: KeySchema,
    options: StoreOptions = {},
  ) {
    this.changelogMaxLen = options.changelogMaxLen ?? 100_000;
    this.forgetTtl = options.forgetTtlSeconds ?? 24 * 3600;
    this.queuedTtl = options.queuedTtlSeconds ?? 3600;
    this.redis = withStoreCommands(redis);
  }

  /**
   * Numbers a request's turns (see lua/accept.lua) and lists the session in its tenant's (and user's) index. A turn id seen
   * before keeps its seq, so a resent request gets the same numbers and nothing is stored twice. With `maxQueued`, room
   * for every turn is reserved in the tenant's queued count first (lua/reserve.lua); what was not new is given back.
   */
  async accept(tenant: string, session: string, turnIds: string[], opts: AcceptOptions = {}): Promise<AcceptResult> {
    const queued = this.keys.queued(tenant);
    let reserved = 0;
    let queuedAfter: number | undefined;
    if (opts.maxQueued !== undefined) {
      const [ok, count] = await this.redis.memReserve(queued, turnIds.length, opts.maxQueued, this.queuedTtl);
      if (ok === 0) return { status: 'full', queued: count };
      reserved = turnIds.length;
      queuedAfter = count;
    }
    let reply: (number | string)[];
    try {
      reply = await this.redis.memAccept(
        this.keys.seq(tenant, session),
        this.keys.turnIds(tenant, session),
        this.keys.pending(tenant, session),
        this.keys.meta(tenant, session),
        this.keys.resent(tenant, session),
        opts.user ?? '',
        Date.now(),
        opts.answering ?? '',
        opts.userKey ? '1' : '',
        ...turnIds,
      );
    } catch (err) {
      await this.release(tenant, reserved);
      throw err;
    }
    if (Number(reply[0]) < 0) {
      await this.release(tenant, reserved);
      if (reply[0] === -1) return { status: 'conflict', owner: String(reply[1]) };
      return { status: reply[0] === -2 ? 'gone' : 'forbidden' };
    }
    const owner = String(reply[1]) || undefined;
    const turns: { seq: number; state: AcceptState }[] = [];
    for (let i = 3; i < reply.length; i += 2) turns.push({ seq: Number(reply[i]), state: (['new', 'pending', 'stored'] as const)[Number(reply[i + 1])] });
    const fresh = turns.filter((t) => t.state === 'new').length;
    const tenantKeys = [this.keys.sessions(tenant), this.keys.gens(tenant), queued];
    const args = [session, Number(reply[2]), fresh - reserved, this.queuedTtl];
    await (owner
      ? this.redis.memRegisterUser(...tenantKeys, this.keys.userSessions(tenant, owner), ...args)
      : this.redis.memRegister(...tenantKeys, ...args));
    return { status: 'accepted', user: owner, turns, ...(queuedAfter === undefined ? {} : { queued: queuedAfter }) };
  }

  /**
   * Takes back the turns a request accepted (new or pending) whose jobs could not be enqueued (lua/unaccept.lua), and
   * their place in the tenant's queued count, so that a failed request leaves nothing accepted; a resend is then new
   * again. A turn another request found pending since stays: that request may have been answered.
   */
  async unaccept(tenant: string, session: string, turns: { turnId: string; seq: number }[]): Promise<void> {
    if (turns.length === 0) return;
    const removed = await this.redis.memUnaccept(this.keys.pending(tenant, session), this.keys.resent(tenant, session), ...turns.flatMap((t) => [t.turnId, t.seq]));
    await this.release(tenant, removed);
  }

  /** Turns accepted for the tenant and not yet processed, as counted by accept() and release(). */
  async queued(tenant: string): Promise<number> {
    return Number((await this.redis.get(this.keys.queued(tenant))) ?? 0);
  }

  /** Counts `n` of the tenant's queued turns as processed (stored, dropped, failed for good or removed). */
  async release(tenant: string, n: number): Promise<void> {
    if (n > 0) await this.redis.memRelease(this.keys.queued(tenant), n);
  }

  /**
   * Writes accepted turns idempotently, then logs them in the change log and releases them from the tenant's queue
   * count. A replay (a job retried after a crash) logs again: an add that is already indexed is a no-op, and the
   * entry may have been lost with the crash.
   */
  async write(turns: TurnWrite[]): Promise<WriteResult[]> {
    const replies = await Promise.all(
      turns.map((t) =>
        this.redis.memWriteTurn(
          this.keys.turn(t.tenant, t.session, t.seq),
          this.keys.turnIds(t.tenant, t.session),
          this.keys.pending(t.tenant, t.session),
          this.keys.history(t.tenant, t.session),
          this.keys.meta(t.tenant, t.session),
          this.keys.resent(t.tenant, t.session),
          t.turnId,
          t.seq,
          t.timestamp,
          ...this.hashFields(t),
        ),
      ),
    );
    const results = replies.map(([code, seq], i): WriteResult => {
      const t = turns[i];
      const outcome = code === 1 ? 'stored' : code === 0 ? 'existing' : 'dropped';
      return { turnId: t.turnId, seq: Number(seq), key: this.keys.turn(t.tenant, t.session, Number(seq)), outcome };
    });
    const logged = new Map<string, { tenant: string; partition: number; keys: string[] }>();
    const processed = new Map<string, number>();
    results.forEach((r, i) => {
      const { tenant, session } = turns[i];
      processed.set(tenant, (processed.get(tenant) ?? 0) + 1);
      if (r.outcome === 'dropped') return;
      const partition = this.keys.partition(tenant, session);
      const group = `${partition}:${tenant}`;
      if (!logged.has(group)) logged.set(group, { tenant, partition, keys: [] });
      logged.get(group)!.keys.push(r.key);
    });
    await Promise.all([
      ...[...logged.values()].map((g) => this.appendLog(g.tenant, g.partition, { op: 'add', keys: g.keys })),
      ...[...processed].map(([tenant, n]) => this.release(tenant, n)),
    ]);
    return results;
  }

  /** Accepts and writes already embedded turns in one go, bypassing the queue (benchmarks and tests load stores with it). */
  async ingest(turns: Omit<TurnWrite, 'seq'>[]): Promise<WriteResult[]> {
    const bySession = new Map<string, number[]>();
    turns.forEach((t, i) => {
      const at = `${t.tenant}/${t.session}`;
      if (!bySession.has(at)) bySession.set(at, []);
      bySession.get(at)!.push(i);
    });
    const seqs: number[] = [];
    await Promise.all(
      [...bySession.values()].map(async (indexes) => {
        const { tenant, session, user } = turns[indexes[0]];
        const accepted = await this.accept(tenant, session, indexes.map((i) => turns[i].turnId), { user });
        if (accepted.status === 'conflict') throw new Error(`session ${tenant}/${session} belongs to ${accepted.owner}`);
        if (accepted.status !== 'accepted') throw new Error(`session ${tenant}/${session}: ${accepted.status}`);
        indexes.forEach((i, j) => (seqs[i] = accepted.turns[j].seq));
      }),
    );
    return this.write(turns.map((t, i) => ({ ...t, seq: seqs[i] })));
  }

  /**
   * Each turn's previous turn's content (seq - 1), for contextual indexing: from `batch` (the turns being written with
   * it) when it is there, else from the store; undefined for a first turn, or one whose previous turn is not stored.
   */
  async previousContents(
    turns: Pick<TurnWrite, 'tenant' | 'session' | 'seq'>[],
    batch: Pick<TurnWrite, 'tenant' | 'session' | 'seq' | 'content'>[] = [],
  ): Promise<(string | undefined)[]> {
    const inBatch = new Map(batch.map((t) => [this.keys.turn(t.tenant, t.session, t.seq), t.content]));
    const keys = turns.map((t) => this.keys.turn(t.tenant, t.session, t.seq - 1));
    return Promise.all(keys.map(async (key) => inBatch.get(key) ?? (await this.redis.hget(key, F.content)) ?? undefined));
  }

  async getTurn(tenant: string, session: string, seq: number): Promise<StoredTurn | null> {
    const [turn] = await this.getTurns([this.keys.turn(tenant, session, seq)]);
    return turn;
  }

  /** Loads turns by key, without their vectors, in one pipelined read; a key that no longer exists gives null. */
  async getTurns(keys: string[]): Promise<(StoredTurn | null)[]> {
    const values = await hmgetEach(this.redis, keys, TURN_READ_FIELDS);
    return values.map((v, i) => parseTurnHash(keys[i], v));
  }

  /** The seqs of the session's turns accepted and not stored yet (their embed jobs are queued, running or failed). */
  async pendingSeqs(tenant: string, session: string): Promise<number[]> {
    return (await this.redis.hvals(this.keys.pending(tenant, session))).map(Number);
  }

  /** Up to `limit` of a session's stored turns with a seq above `after`, oldest first. */
  async turnsAfter(tenant: string, session: string, after: number, limit: number): Promise<StoredTurn[]> {
    const seqs = await this.redis.zrangebyscore(this.keys.history(tenant, session), `(${after}`, '+inf', 'LIMIT', 0, limit);
    return this.turnsBySeq(tenant, session, seqs);
  }

  /** The seq of a stored turn, by its turn id. */
  async seqOf(tenant: string, session: string, turnId: string): Promise<number | undefined> {
    const seq = await this.redis.hget(this.keys.turnIds(tenant, session), turnId);
    return seq === null ? undefined : Number(seq);
  }

  /** A page of a session's history, oldest first. */
  async history(tenant: string, session: string, offset = 0, limit = 50): Promise<{ total: number; turns: StoredTurn[] }> {
    const historyKey = this.keys.history(tenant, session);
    const [total, seqs] = await Promise.all([
      this.redis.zcard(historyKey),
      this.redis.zrange(historyKey, offset, offset + limit - 1),
    ]);
    return { total, turns: await this.turnsBySeq(tenant, session, seqs) };
  }

  /** The session's latest `n` turns, oldest first. */
  async recent(tenant: string, session: string, n: number): Promise<StoredTurn[]> {
    if (n <= 0) return [];
    const seqs = await this.redis.zrange(this.keys.history(tenant, session), -n, -1);
    return this.turnsBySeq(tenant, session, seqs);
  }

  async countSession(tenant: string, session: string): Promise<number> {
    return this.redis.zcard(this.keys.history(tenant, session));
  }

  /** The user a session belongs to, if any. */
  async sessionUser(tenant: string, session: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.meta(tenant, session), 'user')) ?? undefined;
  }

  /** Whether a session exists (it has accepted a turn and was not deleted since), and its user if it has one. */
  async sessionOwner(tenant: string, session: string): Promise<{ exists: boolean; user?: string }> {
    const [user, created] = await this.redis.hmget(this.keys.meta(tenant, session), 'user', 'created');
    return { exists: created !== null, ...(user ? { user } : {}) };
  }

  /** Session names of the tenant (or of one user), in name order, after `cursor`. */
  async sessionNames(tenant: string, options: { user?: string; after?: string; limit?: number } = {}): Promise<string[]> {
    const key = options.user ? this.keys.userSessions(tenant, options.user) : this.keys.sessions(tenant);
    const from = options.after ? `(${options.after}` : '-';
    return options.limit === undefined
      ? this.redis.zrangebylex(key, from, '+')
      : this.redis.zrangebylex(key, from, '+', 'LIMIT', 0, options.limit);
  }

  /** Summaries of the named sessions; a name whose session is gone (a delete racing a listing) is left out. */
  async summaries(tenant: string, sessions: string[]): Promise<SessionSummary[]> {
    const rows = await Promise.all(
      sessions.map((s) => Promise.all([this.redis.hgetall(this.keys.meta(tenant, s)), this.redis.zcard(this.keys.history(tenant, s))])),
    );
    return rows.flatMap(([meta, turns], i) => {
      if (meta.created === undefined) return [];
      const optional = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      return [{
        sessionId: sessions[i],
        ...(meta.user ? { userId: meta.user } : {}),
        turns,
        createdAt: Number(meta.created),
        ...(meta.first ? { firstActivity: optional(meta.first), lastActivity: optional(meta.last) } : {}),
      }];
    });
  }

  /**
   * The earliest and latest turn timestamps over the given sessions, counting only sessions of `users` when given
   * (both undefined when none has a stored turn).
   */
  async activity(tenant: string, sessions: string[], users?: string[]): Promise<{ first?: number; last?: number }> {
    const rows = await Promise.all(sessions.map((s) => this.redis.hmget(this.keys.meta(tenant, s), 'user', 'first', 'last')));
    const owned = users && new Set(users);
    let first: number | undefined;
    let last: number | undefined;
    for (const [user, from, to] of rows) {
      if (from === null || to === null || (owned && (user === null || !owned.has(user)))) continue;
      first = Math.min(first ?? Infinity, Number(from));
      last = Math.max(last ?? -Infinity, Number(to));
    }
    return { first, last };
  }

  /**
   * Forgets a session: its turns, its bookkeeping and summaries, (through the change log) its vectors, and the turns accepted for
   * it that are still queued (their jobs find no pending entry and are dropped). Null when the session never
   * accepted a turn.
   */
  async deleteSession(tenant: string, session: string): Promise<DeletedSession | null> {
    const reply = await this.redis.memDeleteSession(
      this.keys.seq(tenant, session),
      this.keys.history(tenant, session),
      this.keys.turnIds(tenant, session),
      this.keys.pending(tenant, session),
      this.keys.meta(tenant, session),
      this.keys.summaries(tenant, session),
      this.keys.summarised(tenant, session),
      this.keys.resent(tenant, session),
      this.keys.sessionTurns(tenant, session),
      this.forgetTtl,
    );
    if (reply[0] === -1) return null;
    const [deleted, mark, user, ...pendingPairs] = reply;
    const tenantKeys = [this.keys.sessions(tenant), this.keys.gens(tenant)];
    await Promise.all([
      this.appendLog(tenant, this.keys.partition(tenant, session), { op: 'del', session }),
      user
        ? this.redis.memUnregisterUser(...tenantKeys, this.keys.userSessions(tenant, String(user)), session, Number(mark))
        : this.redis.memUnregister(...tenantKeys, session, Number(mark)),
    ]);
    const pending: DeletedSession['pending'] = [];
    for (let i = 0; i + 1 < pendingPairs.length; i += 2) pending.push({ turnId: String(pendingPairs[i]), seq: Number(pendingPairs[i + 1]) });
    return { deleted: Number(deleted), pending, lastSeq: Number(mark), ...(user ? { user: String(user) } : {}) };
  }

  /**
   * Forgets one turn by its id: 'stored' (deleted, and dropped from the index, with the summary versions that covered
   * it), 'pending' (its job will be dropped) or 'unknown'.
   */
  async deleteTurn(tenant: string, session: string, turnId: string): Promise<{ state: 'stored' | 'pending'; seq: number } | { state: 'unknown' }> {
    const [code, seq] = await this.redis.memDeleteTurn(
      this.keys.turnIds(tenant, session),
      this.keys.pending(tenant, session),
      this.keys.history(tenant, session),
      this.keys.summarised(tenant, session),
      this.keys.summaries(tenant, session),
      this.keys.resent(tenant, session),
      turnId,
      this.keys.sessionTurns(tenant, session),
    );
    if (code === 0) return { state: 'unknown' };
    if (code === 1) {
      await this.appendLog(tenant, this.keys.partition(tenant, session), { op: 'rm', keys: [this.keys.turn(tenant, session, Number(seq))] });
      return { state: 'stored', seq: Number(seq) };
    }
    return { state: 'pending', seq: Number(seq) };
  }

  /**
   * Read-your-writes: the newest change-log entry of the tenant in each given partition (default all). A search
   * that waits for these positions sees every write of the tenant that completed before now, and no other
   * tenant's writes can make it wait.
   */
  async positions(tenant: string, partitions = this.keys.allPartitions): Promise<Record<number, string>> {
    const ids = await Promise.all(partitions.map((p) => this.redis.hget(this.keys.changelogTenants(p), tenant)));
    return Object.fromEntries(partitions.flatMap((p, i) => (ids[i] ? [[p, ids[i]]] : [])));
  }

  /**
   * Every stored vector of one generation's field, in batches, for rebuilding an in-process index; `run` runs each
   * Redis step (see ReadStep).
   */
  async *scanVectors(batchSize = 500, run: ReadStep = runOnce, field: string = F.embedding): AsyncGenerator<StoredVector[]> {
    for await (const keys of scanKeys(this.redis, `${this.keys.turnPrefix}*`, batchSize, run)) {
      const vectors = await run(() => this.loadVectors(keys, field));
      if (vectors.length > 0) yield vectors;
    }
  }

  /**
   * The keys of every turn and memory a search of these sessions (else of these users' sessions, else of all the
   * tenant's) can find, or undefined when there are more than `max`: what an in-process index scans while it
   * rebuilds. A session's memories are its user's, or its own when it has none.
   */
  async scopeKeys(tenant: string, scope: { sessions?: string[]; users?: string[]; kinds?: readonly MemoryKind[] }, max: number): Promise<string[] | undefined> {
    const named = scope.sessions ?? (await Promise.all((scope.users ?? [undefined]).map((user) => this.sessionNames(tenant, { user, limit: max + 1 })))).flat();
    const sessions = [...new Set(named)];
    if (sessions.length > max) return undefined;
    const kinds = scope.kinds ?? MEMORY_KINDS;
    const turns = kinds.includes('turn') ? sessions : [];
    const counts = await Promise.all(turns.map((s) => this.redis.zcard(this.keys.history(tenant, s))));
    if (counts.reduce((sum, n) => sum + n, 0) > max) return undefined;
    const seqs = await Promise.all(turns.map((s) => this.redis.zrange(this.keys.history(tenant, s), 0, -1)));
    const keys = turns.flatMap((s, i) => seqs[i].map((seq) => this.keys.turn(tenant, s, Number(seq))));
    if (!kinds.includes('memory')) return keys;
    const owners = await Promise.all(sessions.map((s) => this.sessionUser(tenant, s)));
    const scopes: MemoryScope[] = [
      ...new Set([...(scope.users ?? []), ...owners.filter((u): u is string => u !== undefined)]),
    ].map((id) => ({ tenant, kind: 'user', id }));
    scopes.push(...sessions.filter((_, i) => owners[i] === undefined).map((id): MemoryScope => ({ tenant, kind: 'session', id })));
    const ids = await Promise.all(scopes.map((sc) => this.redis.zrange(this.keys.memoryIndex(sc), 0, max)));
    keys.push(...scopes.flatMap((sc, i) => ids[i].map((id) => this.keys.memory(sc, id))));
    return keys.length > max ? undefined : keys;
  }

  /**
   * Vectors (of one generation's field), contents and filter fields of the given keys; keys that are gone, or have no
   * vector of that generation yet, are left out.
   */
  async loadVectors(keys: string[], field: string = F.embedding): Promise<StoredVector[]> {
    const replies = await hmgetEach(this.redis, keys, [F.tenant, F.session, F.role, F.timestamp, field, F.content, F.user, F.tags, F.kind, F.context, F.seq, F.eventAt, F.speaker], 'buffers');
    return replies.flatMap((values, i) => {
      const [tenant, session, role, timestamp, embedding, content, user, tags, kind, context, seq, eventAt, speaker] = values;
      const memory = kind?.toString() === 'memory';
      if (!tenant || !(session || memory) || !role || !timestamp || !embedding || !content) return [];
      return [{
        key: keys[i],
        ...(memory ? { kind: 'memory' as const } : {}),
        tenant: tenant.toString(),
        session: session?.toString() ?? '',
        role: role.toString() as Role,
        timestamp: Number(timestamp.toString()),
        // As parseTurnHash reads them: no seq is 0, no (or an empty) event date none.
        seq: Number(seq?.toString() ?? 0),
        ...(eventAt?.length ? { eventAt: Number(eventAt.toString()) } : {}),
        ...(speaker?.length ? { speaker: speaker.toString() } : {}),
        embedding: bufferToVector(embedding),
        content: content.toString(),
        ...(user ? { user: user.toString() } : {}),
        ...(tags ? { tags: tags.toString().split(',') } : {}),
        ...(context ? { context: context.toString() } : {}),
      }];
    });
  }

  /**
   * One batch of a re-index's scan over every turn and memory hash: from `cursor` ('' to begin; else the master's
   * index and its SCAN cursor), the keys without a vector in `field`, with their contents. `next` is '' at the end.
   */
  async scanMissing(cursor: string, count: number, field: string): Promise<{ next: string; missing: { key: string; content: string }[]; scanned: number }> {
    // Sorted, so every process resumes a cursor on the same master.
    const nodes = (await masters(this.redis)).sort((a, b) => `${a.options.host}:${a.options.port}`.localeCompare(`${b.options.host}:${b.options.port}`));
    const [node, scan] = cursor ? cursor.split(':') : ['0', '0'];
    const [after, keys] = await nodes[Number(node)].scan(scan, 'MATCH', `${this.keys.turnPrefix}*`, 'COUNT', count);
    const next = after !== '0' ? `${node}:${after}` : Number(node) + 1 < nodes.length ? `${Number(node) + 1}:0` : '';
    const rows = await Promise.all(keys.map((key) => this.redis.hmget(key, F.content, field)));
    const missing = keys.flatMap((key, i) => (rows[i][0] !== null && rows[i][1] === null ? [{ key, content: rows[i][0]! }] : []));
    return { next, missing, scanned: keys.length };
  }

  /** Stores re-embedded vectors in one generation's field of hashes that still exist, and logs them for the in-process indexes. */
  async setVectors(field: string, entries: { key: string; vector: Float32Array }[]): Promise<number> {
    const stored = await Promise.all(entries.map((e) => this.redis.memSetVectors(e.key, field, vectorToBuffer(e.vector))));
    const logged = new Map<string, { tenant: string; partition: number; keys: string[] }>();
    entries.forEach((e, i) => {
      const owner = this.keys.ownerOf(e.key);
      if (!stored[i] || !owner) return;
      const group = `${owner.partition}:${owner.tenant}`;
      if (!logged.has(group)) logged.set(group, { ...owner, keys: [] });
      logged.get(group)!.keys.push(e.key);
    });
    await Promise.all([...logged.values()].map((g) => this.appendLog(g.tenant, g.partition, { op: 'add', keys: g.keys })));
    return stored.filter(Boolean).length;
  }

  /** The dimension of the vectors stored in `field` (the first hash found that has one), or undefined when none has. */
  async storedDim(field: string = F.embedding): Promise<number | undefined> {
    for await (const keys of scanKeys(this.redis, `${this.keys.turnPrefix}*`, 100)) {
      const bytes = (await Promise.all(keys.map((key) => this.redis.hstrlen(key, field)))).find((n) => n > 0);
      if (bytes) return bytes / 4;
    }
    return undefined;
  }

  /** The turn and memory hashes stored (a re-index's total). */
  async countHashes(): Promise<number> {
    let n = 0;
    for await (const keys of scanKeys(this.redis, `${this.keys.turnPrefix}*`, 1000)) n += keys.length;
    return n;
  }

  /** Deletes a dropped generation's field from every hash, in batches. */
  async dropField(field: string, batchSize = 500): Promise<void> {
    for await (const keys of scanKeys(this.redis, `${this.keys.turnPrefix}*`, batchSize)) {
      await Promise.all(keys.map((key) => this.redis.hdel(key, field)));
    }
  }

  /** Appends one tenant's entries to a change-log partition (memories are logged like turns, by the memory repository). */
  appendLog(tenant: string, partition: number, entry: LogOp): Promise<string> {
    const values = entry.op === 'del' ? [entry.session] : entry.keys;
    return this.redis.memAppendLog(this.keys.changelog(partition), this.keys.changelogTenants(partition), this.changelogMaxLen, tenant, entry.op, ...values);
  }

  private async turnsBySeq(tenant: string, session: string, seqs: string[]): Promise<StoredTurn[]> {
    const turns = await this.getTurns(seqs.map((s) => this.keys.turn(tenant, session, Number(s))));
    return turns.filter((t): t is StoredTurn => t !== null);
  }

  private hashFields(t: TurnWrite): ScriptArgs {
    const fields: ScriptArgs = [
      F.tenant, t.tenant,
      F.session, t.session,
      F.seq, t.seq,
      F.turnId, t.turnId,
      F.role, t.role,
      F.content, t.content,
      F.timestamp, t.timestamp,
      F.tokenCount, t.tokenCount,
      ...embeddingFields(t.embedding).flatMap(([field, v]) => [field, vectorToBuffer(v)]),
    ];
    if (t.user !== undefined) fields.push(F.user, t.user);
    if (t.tags !== undefined && t.tags.length > 0) fields.push(F.tags, t.tags.join(','));
    if (t.metadata !== undefined) fields.push(F.metadata, JSON.stringify(t.metadata));
    if (t.context) fields.push(F.context, t.context);
    if (t.eventAt !== undefined) fields.push(F.eventAt, t.eventAt);
    if (t.speaker !== undefined) fields.push(F.speaker, t.speaker);
    return fields;
  }
}
