import { Injectable } from '@nestjs/common';
import { InvalidInputError, KeySchema, MemoryConfig, MemoryStore, type RetrieveJob, type RetrieveResult } from '@app/memory';
import { JobGateway } from '../common/job-gateway';
import { toIso } from '../common/timestamp';
import { toMemoryHit } from './memory-view';
import type { AppliedWindow, SearchAllMemoriesBody, SearchMemoriesResponse } from './search-memories.dto';

/** What to search for, and where: every search, context and chat of the API is one of these. */
export type MemoryRequest = Pick<RetrieveJob, 'query' | 'sessions' | 'users' | 'since' | 'until' | 'roles' | 'tags' | 'kinds' | 'minScore' | 'mode' | 'asOf' | 'neighbours'> & {
  k?: number;
  /** Hours back from now, instead of `since`. */
  windowHours?: number;
};

export type RetrieveExtras = Pick<RetrieveJob, 'assemble' | 'exclude' | 'minLogIds'> & { deadline?: number };

/**
 * Turns a request into a retrieval: the time window (windowHours 0 is all time; a request that names no bound gets
 * MEMORY_WINDOW_HOURS, which defaults to 0), the default k, and read-your-writes on the change-log partitions it can touch.
 */
@Injectable()
export class MemorySearchService {
  constructor(
    private readonly jobs: JobGateway,
    private readonly store: MemoryStore,
    private readonly keys: KeySchema,
    private readonly config: MemoryConfig,
  ) {}

  /** A search answer: the hits, the window applied and where the time went. */
  async search(tenant: string, req: MemoryRequest): Promise<SearchMemoriesResponse> {
    const started = performance.now();
    const { result, window, prepareMs, jobMs } = await this.retrieve(tenant, req);
    const { embedMs, searchMs, assembleMs } = result.timings;
    return {
      memories: result.memories.map(toMemoryHit),
      window,
      timings: { prepare: prepareMs, queue: jobMs - embedMs - searchMs - assembleMs, embed: embedMs, search: searchMs, total: performance.now() - started },
      generation: result.generation,
    };
  }

  /** POST /v1/memories/search (and the MCP search tool): one user and several sessions, as a request names them. */
  searchAll(tenant: string, { userId, sessionIds, ...rest }: SearchAllMemoriesBody): Promise<SearchMemoriesResponse> {
    return this.search(tenant, { ...rest, sessions: sessionIds, users: userId === undefined ? undefined : [userId] });
  }

  /** The result, the window applied, and the ms spent before the job was queued (prepareMs) and waiting for it (jobMs). */
  async retrieve(tenant: string, req: MemoryRequest, extras: RetrieveExtras = {}): Promise<{ result: RetrieveResult; window: AppliedWindow; prepareMs: number; jobMs: number }> {
    const started = performance.now();
    const { since, until } = this.window(req);
    const partitions = req.sessions ? [...new Set(req.sessions.map((s) => this.keys.partition(tenant, s)))] : undefined;
    const minLogIds = extras.minLogIds ?? (await this.store.positions(tenant, partitions));
    const queued = performance.now();
    const result = await this.jobs.retrieve(
      {
        tenant,
        query: req.query,
        sessions: req.sessions,
        users: req.users,
        roles: req.roles,
        tags: req.tags,
        kinds: req.kinds,
        minScore: req.minScore,
        mode: req.mode,
        ...(req.asOf !== undefined ? { asOf: req.asOf } : {}),
        ...(req.neighbours ? { neighbours: req.neighbours } : {}),
        k: req.k ?? this.config.TOP_K_MEMORIES,
        since,
        until,
        minLogIds,
        ...(extras.exclude ? { exclude: extras.exclude } : {}),
        ...(extras.assemble ? { assemble: extras.assemble } : {}),
      },
      extras.deadline,
    );
    return { result, window: { since: toIso(since), until: toIso(until) }, prepareMs: queued - started, jobMs: performance.now() - queued };
  }

  private window({ since, until, windowHours }: MemoryRequest): { since?: number; until?: number } {
    if (windowHours !== undefined && since !== undefined) throw new InvalidInputError('give since or windowHours, not both');
    if (since !== undefined && until !== undefined && since > until) throw new InvalidInputError('since is after until');
    const hours = windowHours ?? (since === undefined && until === undefined ? this.config.MEMORY_WINDOW_HOURS : 0);
    return { since: since ?? (hours > 0 ? Date.now() - hours * 3600_000 : undefined), until };
  }
}
